// Request objects (RFC 9101, OIDC Core §6.1): the authorization request as a JWT signed with
// one of the client's registered keys (jwks / jwks_uri). Unsigned (alg none) and encrypted
// objects are refused.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { REQUEST_OBJECT_SIGNING_ALGS } from '../../config/clients.js';
import type { AppContext } from '../../context.js';
import type { Client } from '../../repositories/clients.js';
import { clientKeys } from '../client-auth.js';
import { OAuthError } from '../errors.js';

/** JWT claims that say something about the object itself, not about the authorization request. */
const JWT_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sub']);

function invalid(description: string): OAuthError {
  return new OAuthError('invalid_request_object', description);
}

/** The request object's claims as authorization request parameters (single strings). */
function toParams(payload: JWTPayload): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (JWT_CLAIMS.has(k) || v === undefined || v === null || v === '') continue;
    // RFC 9101 §4: a request object must not contain request or request_uri
    if (k === 'request' || k === 'request_uri') throw invalid(`the request object must not contain ${k} (RFC 9101 section 4)`);
    if (Array.isArray(v)) throw invalid(`the request object's ${k} must be a single value`);
    // OIDC Core §6.1: claims is a JSON object, max_age a number
    params[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return params;
}

/**
 * Verifies a request object sent by `client` and returns its parameters. RFC 9101 §6.3: only
 * the request object's parameters are used, and its client_id must be the request's. Throws
 * invalid_request_object.
 */
export async function verifyRequestObject(ctx: AppContext, client: Client, jwt: string): Promise<Record<string, string>> {
  const parts = jwt.split('.').length;
  if (parts === 5) throw invalid('encrypted request objects are not supported; sign it (JWS) instead');
  let alg: string | undefined;
  try {
    ({ alg } = decodeProtectedHeader(jwt));
  } catch {
    throw invalid('the request parameter is not a JWT');
  }
  if (parts !== 3) throw invalid('the request parameter is not a JWT');
  // RFC 9101 §6.1 allows none; we never accept an unsigned object: anyone could have written it
  if (alg === undefined || alg.toLowerCase() === 'none') throw invalid('unsigned request objects (alg none) are not accepted; sign it with a key registered for this client');
  const keys = clientKeys(client);
  if (!keys) throw invalid('this client has no registered keys (jwks or jwks_uri) to verify request objects with');
  // RFC 9101 §10.1 (request_object_signing_alg): only the registered algorithm when there is one
  const algorithms = client.request_object_signing_alg ? [client.request_object_signing_alg] : [...REQUEST_OBJECT_SIGNING_ALGS];
  if (!algorithms.includes(alg as (typeof algorithms)[number])) throw invalid(`request objects of this client must be signed with ${algorithms.join(', ')}, not ${alg}`);
  let payload: JWTPayload;
  try {
    // RFC 9101 §4: iss is the client, aud the authorization server; exp and nbf are checked when present
    ({ payload } = await jwtVerify(jwt, keys, { algorithms, issuer: client.client_id, audience: ctx.env.ISSUER, clockTolerance: 30 }));
  } catch (e) {
    // anything else is the client's jwks_uri failing to answer with keys
    throw invalid(`the request object was refused: ${e instanceof errors.JOSEError ? e.message : "the client's jwks_uri could not be read"}`);
  }
  const params = toParams(payload);
  // RFC 9101 §6.3: the client_id inside must be the one the request was made with
  if (params.client_id !== undefined && params.client_id !== client.client_id) throw invalid('the request object is for another client_id');
  params.client_id = client.client_id;
  return params;
}
