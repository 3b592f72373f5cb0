// The subject_token and actor_token of a token exchange (RFC 8693 §2.1). Only tokens this server
// issued are accepted: our RFC 9068 access tokens (signature, issuer, expiry, not revoked, grant
// still active) and our ID tokens (signature, issuer, expiry, their client still registered).
// §2.2.2: a token that is invalid for any reason, or unacceptable by policy, is invalid_request.
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { OAuthError } from '../errors.js';
import { parseScope } from '../scopes.js';
import { ACCESS_TOKEN_TYP, verifyAccessToken, type ActClaim } from '../tokens.js';
import { ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE } from './token-types.js';

export interface PresentedToken {
  /** what the token is: ACCESS_TOKEN_TYPE or ID_TOKEN_TYPE */
  type: string;
  sub: string;
  /** the client it was issued to (an access token's client_id, an ID token's azp or aud) */
  client_id: string;
  aud: string[];
  scope: string[];
  exp: number;
  grant_id?: string | undefined;
  auth_time?: number | undefined;
  act?: ActClaim | undefined;
}

export type PresentedParam = 'subject_token' | 'actor_token';

/** §4.1: an act claim we wrote; anything else in it is dropped. */
const actClaim: z.ZodType<ActClaim> = z.lazy(() => z.object({ sub: z.string(), act: actClaim.optional() }));

/** An ID token's typ header (src/oauth/tokens.ts mintIdToken). */
const ID_TOKEN_TYP = 'JWT';

/**
 * Verifies a presented token of type `tokenType` (token-types.ts: access_token, id_token, or
 * jwt, which is either, told apart by the typ header). Throws invalid_request naming `param`.
 */
export async function verifyPresentedToken(ctx: AppContext, token: string, tokenType: string, param: PresentedParam): Promise<PresentedToken> {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    throw new OAuthError('invalid_request', `${param} is not a JWT issued by this server`);
  }
  const isAccessToken = typ === ACCESS_TOKEN_TYP;
  if (tokenType === ACCESS_TOKEN_TYPE && !isAccessToken) throw new OAuthError('invalid_request', `${param} is not an access token of this server (typ ${ACCESS_TOKEN_TYP})`);
  if (tokenType === ID_TOKEN_TYPE && typ !== ID_TOKEN_TYP) throw new OAuthError('invalid_request', `${param} is not an ID token of this server`);
  const verified = isAccessToken ? await accessToken(ctx, token) : await idToken(ctx, token);
  if (!verified) throw refusal(ctx, token, param);
  return verified;
}

async function accessToken(ctx: AppContext, token: string): Promise<PresentedToken | undefined> {
  const t = await verifyAccessToken(ctx, token);
  if (!t) return undefined;
  const act = actClaim.safeParse(t.act);
  return {
    type: ACCESS_TOKEN_TYPE,
    sub: t.sub,
    client_id: t.client_id,
    aud: typeof t.aud === 'string' ? [t.aud] : t.aud,
    scope: parseScope(t.scope),
    exp: t.exp,
    grant_id: t.grant_id,
    auth_time: t.auth_time,
    act: act.success ? act.data : undefined,
  };
}

async function idToken(ctx: AppContext, token: string): Promise<PresentedToken | undefined> {
  let payload: JWTPayload;
  try {
    ({ payload } = await ctx.keystore.verify(token, { issuer: ctx.env.ISSUER, typ: ID_TOKEN_TYP, requiredClaims: ['sub', 'aud', 'exp', 'iat'] }));
  } catch {
    return undefined;
  }
  const aud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
  // OIDC Core §2: azp names the client when aud has several values
  const clientId = typeof payload.azp === 'string' ? payload.azp : aud[0];
  if (!clientId || !(await ctx.clients.get(clientId))) return undefined;
  return {
    type: ID_TOKEN_TYPE,
    sub: payload.sub!,
    client_id: clientId,
    aud,
    // OIDC Core §3.1.2.1: an ID token is issued for the openid scope, and grants nothing more
    scope: ['openid'],
    exp: payload.exp!,
    auth_time: typeof payload.auth_time === 'number' ? payload.auth_time : undefined,
  };
}

/** Why a token did not verify, read from its unverified claims only to word the error. */
function refusal(ctx: AppContext, token: string, param: PresentedParam): OAuthError {
  let claims: JWTPayload | undefined;
  try {
    claims = decodeJwt(token);
  } catch {
    claims = undefined;
  }
  const why =
    claims?.iss !== ctx.env.ISSUER
      ? 'was not issued by this server'
      : typeof claims.exp === 'number' && claims.exp <= Date.now() / 1000
        ? 'has expired'
        : 'is invalid or revoked';
  return new OAuthError('invalid_request', `${param} ${why}`);
}
