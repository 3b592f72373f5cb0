// Client authentication at /token, /device_authorization, /revoke, /introspect.
// RFC 6749 §2.3.1 (client_secret_basic, client_secret_post), RFC 7523 §2.2 + OIDC Core §9
// (private_key_jwt), and `none` for public clients. A client may use only the method it
// registered (INTERFACE.md); anything else is invalid_client.
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AppContext } from '../context.js';
import { secretMatchesHash } from '../crypto/hash.js';
import type { Client } from '../repositories/clients.js';
import { OAuthError } from './errors.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Algorithms a private_key_jwt client assertion may use (advertised per endpoint, RFC 8414 §2). */
export const CLIENT_ASSERTION_SIGNING_ALGS = ['RS256', 'ES256', 'PS256', 'EdDSA'];

export interface AuthenticatedClient {
  client: Client;
  method: Client['token_endpoint_auth_method'];
}

function invalidClient(triedBasic: boolean, description = 'client authentication failed'): OAuthError {
  // RFC 6749 §5.2: 401 and WWW-Authenticate when the client tried the Authorization header
  return new OAuthError('invalid_client', description, {
    status: 401,
    headers: triedBasic ? { 'www-authenticate': 'Basic realm="oauth", charset="UTF-8"' } : {},
  });
}

function parseBasic(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    return { id: formDecode(decoded.slice(0, i)), secret: formDecode(decoded.slice(i + 1)) };
  } catch {
    return undefined;
  }
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64; most need no decoding. */
function formDecode(s: string): string {
  return s.includes('%') || s.includes('+') ? decodeURIComponent(s.replace(/\+/g, ' ')) : s;
}

const remoteJwks = new Map<string, JWTVerifyGetKey>();
/** The client's registered public keys (`jwks`, or `jwks_uri` fetched and cached by jose). */
export function clientKeys(client: Client): JWTVerifyGetKey | undefined {
  if (client.jwks) return createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0]);
  if (client.jwks_uri) {
    let set = remoteJwks.get(client.jwks_uri);
    if (!set) remoteJwks.set(client.jwks_uri, (set = createRemoteJWKSet(new URL(client.jwks_uri))));
    return set;
  }
  return undefined;
}

function decodeAssertionIssuer(assertion: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown; sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Authenticates the client of a back-channel request. `params` is the form body; the endpoint
 * URL is an acceptable `aud` of a client assertion besides the issuer.
 */
export async function authenticateClient(
  ctx: AppContext,
  authorization: string | undefined,
  params: Record<string, string>,
  endpointUrl: string,
): Promise<AuthenticatedClient> {
  const triedBasic = !!authorization && /^Basic /i.test(authorization);
  const basic = triedBasic ? parseBasic(authorization!) : undefined;
  if (triedBasic && !basic) throw invalidClient(true, 'malformed Basic authorization header');
  const usesPost = params.client_secret !== undefined;
  const usesJwt = params.client_assertion !== undefined || params.client_assertion_type !== undefined;
  // RFC 6749 §2.3: a client must not use more than one authentication method in a request
  if (Number(triedBasic) + Number(usesPost) + Number(usesJwt) > 1) throw new OAuthError('invalid_request', 'use exactly one client authentication method');

  let clientId: string | undefined;
  let method: Client['token_endpoint_auth_method'];
  if (basic) {
    clientId = basic.id;
    method = 'client_secret_basic';
  } else if (usesPost) {
    clientId = params.client_id;
    method = 'client_secret_post';
  } else if (usesJwt) {
    if (params.client_assertion_type !== JWT_BEARER_ASSERTION) throw invalidClient(false, `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    if (!params.client_assertion) throw invalidClient(false, 'client_assertion is missing');
    clientId = params.client_id ?? decodeAssertionIssuer(params.client_assertion);
    method = 'private_key_jwt';
  } else {
    clientId = params.client_id;
    method = 'none';
  }
  if (!clientId) throw invalidClient(triedBasic, 'client_id is missing');
  if (params.client_id !== undefined && params.client_id !== clientId) throw invalidClient(triedBasic, 'client_id does not match the authenticated client');

  const client = await ctx.clients.get(clientId);
  // unknown, disabled, wrong method: one answer, so nothing tells them apart
  if (!client || client.token_endpoint_auth_method !== method) throw invalidClient(triedBasic);

  switch (method) {
    case 'client_secret_basic':
    case 'client_secret_post': {
      const secret = basic ? basic.secret : params.client_secret!;
      // Secrets are long random values, so SHA-256 compared in constant time is enough; no KDF
      // on this path (it is the hot path of client_credentials).
      if (!client.client_secret_hash || !secretMatchesHash(secret, client.client_secret_hash)) throw invalidClient(triedBasic);
      break;
    }
    case 'private_key_jwt':
      await verifyClientAssertion(ctx, client, params.client_assertion!, endpointUrl);
      break;
    case 'none':
      break;
  }
  return { client, method };
}

async function verifyClientAssertion(ctx: AppContext, client: Client, assertion: string, endpointUrl: string): Promise<void> {
  const keys = clientKeys(client);
  if (!keys) throw invalidClient(false);
  let payload;
  try {
    // RFC 7523 §3: iss = sub = client_id, aud names this server, exp required; only the
    // algorithms discovery advertises (token_endpoint_auth_signing_alg_values_supported)
    ({ payload } = await jwtVerify(assertion, keys, {
      algorithms: CLIENT_ASSERTION_SIGNING_ALGS,
      issuer: client.client_id,
      subject: client.client_id,
      audience: [ctx.env.ISSUER, endpointUrl, `${ctx.env.ISSUER}/token`],
      requiredClaims: ['exp', 'jti'],
      maxTokenAge: '10m',
      clockTolerance: 30,
    }));
  } catch (e) {
    throw invalidClient(false, `client_assertion rejected: ${(e as Error).message}`);
  }
  const expiresAt = new Date(((payload.exp ?? 0) + 60) * 1000);
  // RFC 7523 §3 item 7: a jti may be used only once
  if (!(await ctx.repos.tokens.rememberAssertionJti(client.client_id, String(payload.jti), expiresAt)))
    throw invalidClient(false, 'client_assertion jti was already used');
}
