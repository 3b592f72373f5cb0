// Token revocation (RFC 7009). A client revokes its own refresh token (which ends the whole
// grant: every refresh and access token issued from it) or its own JWT access token (its jti is
// recorded until the token would have expired). Anything else is answered 200 and nothing is
// revoked (§2.2), so the endpoint tells nobody whether a token exists.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { authenticateClient, CLIENT_ASSERTION_SIGNING_ALGS } from '../oauth/client-auth.js';
import { OAuthError } from '../oauth/errors.js';
import { singleParams } from '../oauth/params.js';
import { ACCESS_TOKEN_TYP } from '../oauth/tokens.js';
import { noStore, requireFormBody } from './http.js';

export const REVOCATION_PATH = '/revoke';

/** A compact JWS has three base64url parts; our refresh tokens are one opaque base64url value. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

export async function revocationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const endpoint = `${ctx.env.ISSUER}${REVOCATION_PATH}`;
  // RFC 8414 §2: revocation_endpoint and the client authentication methods it accepts
  app.discovery.revocation_endpoint = REVOCATION_PATH;
  app.discovery.revocation_endpoint_auth_methods_supported = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];
  // required when private_key_jwt is listed
  app.discovery.revocation_endpoint_auth_signing_alg_values_supported = CLIENT_ASSERTION_SIGNING_ALGS;

  app.post(REVOCATION_PATH, async (request, reply) => {
    requireFormBody(request);
    noStore(reply);
    const params = singleParams(request.body);
    // §2.1: the client authenticates as at the token endpoint; a public client identifies
    // itself with client_id (RFC 6749 §2.3: `none`)
    const { client } = await authenticateClient(ctx, request.headers.authorization, params, endpoint);
    const token = params.token;
    if (!token) throw new OAuthError('invalid_request', 'token is missing');
    // §2.1: token_type_hint is only a hint; §2.2.1: an unknown value is ignored and every kind
    // of token is searched anyway.
    const jwtFirst = params.token_type_hint === 'access_token' || (params.token_type_hint !== 'refresh_token' && looksLikeJwt(token));
    const kinds = jwtFirst ? [revokeAccessToken, revokeRefreshToken] : [revokeRefreshToken, revokeAccessToken];
    for (const revoke of kinds) {
      const outcome = await revoke(ctx, token, client.client_id);
      if (outcome !== 'not_found') {
        if (outcome === 'revoked') await ctx.repos.audit.record({ event: 'token_revoked', client_id: client.client_id, ip: request.ip, detail: { kind: revoke === revokeAccessToken ? 'access_token' : 'refresh_token' } });
        break;
      }
    }
    // §2.2: 200 whether the token was revoked, was already invalid, unknown, or another
    // client's (an invalid token is no error: the client's goal is reached)
    return reply.code(200).send();
  });
}

type Outcome = 'revoked' | 'not_found' | 'foreign';

/** §2.1: a refresh token of this client → its grant ends, and with it every token it issued. */
async function revokeRefreshToken(ctx: AppContext, token: string, clientId: string): Promise<Outcome> {
  const row = await ctx.repos.grants.findRefreshToken(token);
  if (!row) return 'not_found';
  // §2.1: the server verifies that the token was issued to the client making the request
  if (row.client_id !== clientId) return 'foreign';
  await ctx.repos.grants.revokeGrant(row.grant_id);
  return 'revoked';
}

/**
 * §2.1: a JWT access token of this client → its jti is recorded until it expires, and
 * verifyAccessToken (userinfo, introspection) refuses it from then on. An expired token or one
 * that does not verify is nothing to revoke.
 */
async function revokeAccessToken(ctx: AppContext, token: string, clientId: string): Promise<Outcome> {
  if (!looksLikeJwt(token)) return 'not_found';
  let payload;
  try {
    ({ payload } = await ctx.keystore.verify(token, { issuer: ctx.env.ISSUER, typ: ACCESS_TOKEN_TYP, requiredClaims: ['exp', 'jti', 'client_id'] }));
  } catch {
    return 'not_found';
  }
  if (payload.client_id !== clientId) return 'foreign';
  await ctx.repos.tokens.revokeJti(String(payload.jti), new Date(payload.exp! * 1000));
  return 'revoked';
}
