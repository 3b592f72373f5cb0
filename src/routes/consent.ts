// The consent page (INTERFACE.md "Pages"): the client's name, each scope in words, allow / deny.
// Granted scopes are remembered per user and client; deny is access_denied (RFC 6749 §4.1.2.1).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { currentSession, type CurrentSession } from '../authentication/login-session.js';
import type { AppContext } from '../context.js';
import { CONSENT_MAC, consentMac, isValidConsentMac, requestParams } from '../oauth/authorize/interaction.js';
import { parseAuthorizationRequest, type AuthorizationRequest } from '../oauth/authorize/request.js';
import { respond } from '../oauth/authorize/respond.js';
import { claimNames } from '../oauth/claims.js';
import { AuthorizationRedirectError, PageError } from '../oauth/errors.js';
import { describeScope } from '../oauth/scopes.js';
import type { User } from '../repositories/users.js';
import { noStore } from './http.js';

export const CONSENT_PATH = '/consent';

/** The scopes in words, plus any single claims asked for with the claims parameter (OIDC Core §5.5). */
function consentItems(request: AuthorizationRequest): { name: string; description: string }[] {
  const items = request.scopes.map((name) => ({ name, description: describeScope(name) }));
  const byScope = claimNames(request.scopes);
  const single = [...claimNames([], [...Object.keys(request.claims?.userinfo ?? {}), ...Object.keys(request.claims?.id_token ?? {})])].filter((c) => !byScope.has(c));
  if (single.length) items.push({ name: 'claims', description: `See these details of your account: ${single.join(', ')}` });
  return items;
}

export async function renderConsent(ctx: AppContext, reply: FastifyReply, request: AuthorizationRequest, session: CurrentSession, user: User): Promise<FastifyReply> {
  const params = requestParams(request.params);
  const hidden = [...Object.entries(params), [CONSENT_MAC, consentMac(ctx.secretKey, params, session.id_hash)]];
  noStore(reply);
  return reply.view('consent.eta', {
    title: `Allow ${request.client.client_name} to use your account?`,
    client_name: request.client.client_name,
    account: user.username,
    scopes: consentItems(request),
    action: CONSENT_PATH,
    csrf: reply.generateCsrf(),
    hidden,
  });
}

export async function consentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post(CONSENT_PATH, { config: { page: true }, preHandler: app.csrfProtection }, async (req, reply) => {
    noStore(reply);
    const body = (req.body ?? {}) as Record<string, unknown>;
    // the hidden fields are the authorization request: validated again from the start
    const request = await parseAuthorizationRequest(ctx, body);
    const session = await currentSession(ctx, req);
    const user = session && (await ctx.repos.users.findBySub(session.sub));
    if (!session || !user) throw new PageError('You are no longer signed in', 'Your sign-in ended before you answered. Go back to the application and start again.');
    // the form must be the one shown to this session for exactly this request
    if (!isValidConsentMac(ctx.secretKeys, request.params, session.id_hash))
      throw new PageError('This form has expired', 'You signed in or out since this page was shown. Go back to the application and start again.');

    const decision = body.decision;
    if (decision === 'deny') {
      await ctx.repos.audit.record({ event: 'consent_denied', client_id: request.client.client_id, sub: session.sub, ip: req.ip });
      throw new AuthorizationRedirectError('access_denied', 'the user denied the request', {
        redirect_uri: request.redirect_uri,
        response_mode: request.response_mode,
        state: request.state,
      });
    }
    if (decision !== 'allow') throw new PageError('Choose Allow or Deny', 'Go back and press Allow or Deny.');
    await ctx.repos.consents.grant(session.sub, request.client.client_id, request.scopes);
    await ctx.repos.audit.record({ event: 'consent_granted', client_id: request.client.client_id, sub: session.sub, ip: req.ip, detail: { scope: request.scopes.join(' ') } });
    return respond(reply, { ctx, request, session, user });
  });
}
