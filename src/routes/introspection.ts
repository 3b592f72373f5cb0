// Token introspection (RFC 7662). Resource servers are registered clients and ask whether a
// token is live and what it carries. Anything not live, not ours, or not this caller's to see is
// exactly {"active":false} (§2.2), so the answer tells nothing more about it.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { authenticateClient, CLIENT_ASSERTION_SIGNING_ALGS } from '../oauth/client-auth.js';
import { OAuthError } from '../oauth/errors.js';
import { singleParams } from '../oauth/params.js';
import { subjectFor } from '../oauth/subject.js';
import { verifyAccessToken, type ActClaim } from '../oauth/tokens.js';
import { noStore, requireFormBody } from './http.js';
import { looksLikeJwt } from './revocation.js';

export const INTROSPECTION_PATH = '/introspect';

const INACTIVE = { active: false } as const;

export type IntrospectionResponse =
  | typeof INACTIVE
  | {
      active: true;
      scope: string;
      client_id: string;
      sub?: string;
      aud?: string | string[];
      iss: string;
      exp: number;
      iat: number;
      token_type: string;
      jti?: string;
      act?: ActClaim;
    };

export async function introspectionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const endpoint = `${ctx.env.ISSUER}${INTROSPECTION_PATH}`;
  // RFC 8414 §2: introspection_endpoint and its client authentication methods. `none` is not
  // among them: see below.
  app.discovery.introspection_endpoint = INTROSPECTION_PATH;
  app.discovery.introspection_endpoint_auth_methods_supported = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
  // required when private_key_jwt is listed
  app.discovery.introspection_endpoint_auth_signing_alg_values_supported = CLIENT_ASSERTION_SIGNING_ALGS;

  app.post(INTROSPECTION_PATH, async (request, reply) => {
    requireFormBody(request);
    // §2.2 and §4: the answer describes a token; it must not be cached
    noStore(reply);
    const params = singleParams(request.body);
    const { client, method } = await authenticateClient(ctx, request.headers.authorization, params, endpoint);
    // §2.1 and §4: the caller must be authorized, or anyone could scan for live tokens. A public
    // client (`none`) only names a client_id, which proves nothing, so it may not introspect.
    if (method === 'none')
      throw new OAuthError('invalid_client', 'introspection needs client authentication; a public client (token_endpoint_auth_method none) cannot introspect', { status: 401 });
    const token = params.token;
    // §2.1: token is REQUIRED
    if (!token) throw new OAuthError('invalid_request', 'token is missing');
    // §2.1: token_type_hint only orders the search; unknown values are ignored
    const jwtFirst = params.token_type_hint === 'access_token' || (params.token_type_hint !== 'refresh_token' && looksLikeJwt(token));
    const order = jwtFirst ? [introspectAccessToken, introspectRefreshToken] : [introspectRefreshToken, introspectAccessToken];
    for (const look of order) {
      const found = await look(ctx, token, client.client_id);
      if (found) return found;
    }
    return INACTIVE;
  });
}

/**
 * A live RFC 9068 access token: signature, typ, issuer and expiry, not revoked by jti, its grant
 * still active (verifyAccessToken). Any resource server may introspect any client's access
 * token: that is what the endpoint is for.
 */
async function introspectAccessToken(ctx: AppContext, token: string): Promise<IntrospectionResponse | undefined> {
  if (!looksLikeJwt(token)) return undefined;
  const t = await verifyAccessToken(ctx, token);
  if (!t) return undefined;
  return {
    active: true,
    scope: t.scope,
    client_id: t.client_id,
    sub: t.sub,
    aud: t.aud,
    iss: ctx.env.ISSUER,
    exp: t.exp,
    iat: t.iat,
    // §2.2: token_type is the type of RFC 6749 §5.1, the access token type we issue
    token_type: 'Bearer',
    jti: t.jti,
    // RFC 8693 §4.1: who acts for the subject (a token from a token exchange)
    ...(t.act ? { act: t.act } : {}),
  };
}

/**
 * A refresh token is active while it exists, has not been rotated away, has not expired and its
 * grant is live. Only the client it was issued to may see it (a refresh token is never presented
 * to a resource server, so nobody else has a reason to ask; everybody else gets inactive).
 *
 * token_type: RFC 7662 §2.2 refers to the access token types of RFC 6749 §5.1, and none of them
 * describes a refresh token. It says "refresh_token", the name RFC 7009 §2.1 registers for this
 * kind of token in the OAuth Token Type Hints registry, so no resource server can take a
 * refresh token for a Bearer access token.
 */
async function introspectRefreshToken(ctx: AppContext, token: string, clientId: string): Promise<IntrospectionResponse | undefined> {
  const row = await ctx.repos.grants.findRefreshToken(token);
  if (!row || row.client_id !== clientId) return undefined;
  const now = Date.now();
  if (row.rotated_at || row.revoked_at || row.expires_at.getTime() <= now) return undefined;
  if (!(await ctx.repos.grants.isGrantActive(row.grant_id))) return undefined;
  const client = await ctx.clients.get(row.client_id);
  if (!client) return undefined;
  return {
    active: true,
    scope: row.scope,
    client_id: row.client_id,
    // the subject the client sees, as in its tokens (OIDC Core §8)
    ...(row.sub ? { sub: subjectFor(ctx, client, row.sub) } : {}),
    iss: ctx.env.ISSUER,
    exp: Math.floor(row.expires_at.getTime() / 1000),
    iat: Math.floor(row.created_at.getTime() / 1000),
    token_type: 'refresh_token',
  };
}
