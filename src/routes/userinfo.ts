// UserInfo endpoint (OIDC Core §5.3), a protected resource under RFC 6750.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { claimNames, userClaims } from '../oauth/claims.js';
import { OAuthError, safeDescription, type OAuthErrorCode } from '../oauth/errors.js';
import { parseScope } from '../oauth/scopes.js';
import { subjectFor } from '../oauth/subject.js';
import { verifyAccessToken } from '../oauth/tokens.js';
import { requestedClaimNames, storedClaimsRequest } from '../oauth/user-tokens.js';

/** RFC 6750 §3: the error travels in the WWW-Authenticate challenge as well as the body. */
function bearerError(error: OAuthErrorCode, description: string, extra = ''): OAuthError {
  const challenge = `Bearer error="${error}", error_description="${safeDescription(description)}"${extra}`;
  return new OAuthError(error, description, { headers: { 'www-authenticate': challenge } });
}

/** The access token of the request (RFC 6750 §2.1 header, §2.2 form body); undefined when none was sent. */
function presentedToken(request: FastifyRequest): string | undefined {
  const query = (request.query ?? {}) as Record<string, unknown>;
  // RFC 9700 §2.4.1 (and RFC 6750 §2.3 discourages it): tokens in URLs leak through logs and referrers
  if (query.access_token !== undefined) throw bearerError('invalid_request', 'access_token in the URL query is not accepted; send it in the Authorization header');

  const header = request.headers.authorization;
  let fromHeader: string | undefined;
  if (header !== undefined) {
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (!m) throw bearerError('invalid_request', 'the Authorization header must be "Bearer <access token>"');
    fromHeader = m[1];
  }

  let fromBody: string | undefined;
  const body = request.body;
  if (request.method === 'POST' && body && typeof body === 'object' && 'access_token' in body) {
    const value = (body as Record<string, unknown>).access_token;
    if (typeof value !== 'string' || value === '') throw bearerError('invalid_request', 'access_token must be given once, not empty');
    // RFC 6750 §2.2: only in an application/x-www-form-urlencoded body
    if (!request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded'))
      throw bearerError('invalid_request', 'access_token in the body needs an application/x-www-form-urlencoded body');
    fromBody = value;
  }

  // RFC 6750 §2: a client must not use more than one method to send the token
  if (fromHeader !== undefined && fromBody !== undefined) throw bearerError('invalid_request', 'send the access token either in the Authorization header or in the body, not both');
  return fromHeader ?? fromBody;
}

export async function userinfoRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.discovery.userinfo_endpoint = '/userinfo';

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const token = presentedToken(request);
    // RFC 6750 §3.1: a request without any authentication gets a challenge without an error code
    if (token === undefined) return reply.code(401).header('www-authenticate', 'Bearer').send();

    const verified = await verifyAccessToken(ctx, token);
    if (!verified) throw bearerError('invalid_token', 'the access token is invalid, expired or revoked');
    const scopes = parseScope(verified.scope);
    // OIDC Core §5.3: userinfo serves tokens that were granted the openid scope
    if (!scopes.includes('openid')) throw bearerError('insufficient_scope', 'the access token was not granted the openid scope', ', scope="openid"');
    // the token's sub is the client's subject (pairwise or public, OIDC Core §8); its grant names the user
    const grant = verified.grant_id ? await ctx.repos.grants.findGrant(verified.grant_id) : undefined;
    const user = await ctx.repos.users.findBySub(grant?.sub ?? verified.sub);
    const client = await ctx.clients.get(verified.client_id);
    if (!user || !client) throw bearerError('invalid_token', 'the user of this access token no longer exists');

    // OIDC Core §5.4 claims by scope, plus single claims the `claims` parameter asked for (§5.5)
    const requested = requestedClaimNames(storedClaimsRequest(grant?.claims), 'userinfo');
    // §5.3.2: sub always, and it is the sub of the ID token
    return reply.type('application/json; charset=utf-8').send({ ...userClaims(user, claimNames(scopes, requested)), sub: subjectFor(ctx, client, user.sub) });
  };

  app.route({ method: ['GET', 'POST'], url: '/userinfo', handler });
}
