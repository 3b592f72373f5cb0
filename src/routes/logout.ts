// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at the end_session_endpoint,
// GET and POST (§2). With a valid id_token_hint for the signed-in user the session ends at once;
// otherwise the person confirms on a page first (§2: the OP asks when it cannot be sure the
// request comes from the user's client). The person is sent to post_logout_redirect_uri only
// when it is registered for the client (§3), with state (§2); else they see a signed-out page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { currentSession, endSession } from '../authentication/login-session.js';
import type { AppContext } from '../context.js';
import { verifyIdTokenHint, type IdTokenHint } from '../oauth/authorize/id-token-hint.js';
import { isRegisteredPostLogoutRedirectUri } from '../oauth/authorize/redirect-uri.js';
import { PageError } from '../oauth/errors.js';
import { singleParams } from '../oauth/params.js';
import type { Client } from '../repositories/clients.js';
import { noStore } from './http.js';

export const END_SESSION_PATH = '/logout';
const CONFIRM_PATH = '/logout/confirm';

interface LogoutRequest {
  client?: Client | undefined;
  /** the registered post_logout_redirect_uri to send the person to, if any */
  redirect?: string | undefined;
  /** a post_logout_redirect_uri was sent but is not registered for the client */
  refusedRedirect: boolean;
  state?: string | undefined;
}

async function parseLogoutRequest(ctx: AppContext, params: Record<string, string>, hint: IdTokenHint | undefined): Promise<LogoutRequest> {
  let client: Client | undefined;
  if (params.client_id) {
    client = await ctx.clients.get(params.client_id);
    if (!client) throw new PageError('Unknown application', `No enabled application is registered as "${params.client_id}".`);
    // §2: when both are sent, the ID token must have been issued to client_id
    if (hint && !hint.aud.includes(client.client_id)) throw new PageError('This sign-out link is not valid', 'The id_token_hint was issued to another application than client_id.');
  } else if (hint && hint.aud.length === 1) {
    client = await ctx.clients.get(hint.aud[0]!);
  }
  const asked = params.post_logout_redirect_uri;
  const redirect = asked !== undefined && client && isRegisteredPostLogoutRedirectUri(client, asked) ? asked : undefined;
  return { client, redirect, refusedRedirect: asked !== undefined && !redirect, state: params.state };
}

/** After the session ended: back to the client (with state), or the signed-out page. */
function finish(reply: FastifyReply, r: LogoutRequest): FastifyReply | Promise<FastifyReply> {
  noStore(reply);
  if (r.redirect) {
    const url = new URL(r.redirect);
    if (r.state !== undefined) url.searchParams.set('state', r.state);
    return reply.redirect(url.href, 303);
  }
  return reply.view('logout_done.eta', {
    title: 'You are signed out',
    message: r.client ? `You are signed out. You can return to ${r.client.client_name} or close this page.` : 'You are signed out. You can close this page.',
    note: r.refusedRedirect ? 'The application asked to send you to an address that is not registered for it, so you stay here.' : undefined,
  });
}

export async function logoutRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.discovery.end_session_endpoint = END_SESSION_PATH;

  const endSessionRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    noStore(reply);
    const params = singleParams(req.method === 'POST' ? req.body : req.query);
    let hint: IdTokenHint | undefined;
    if (params.id_token_hint) {
      // §2: signature and issuer checked; an expired ID token is still a valid hint
      hint = await verifyIdTokenHint(ctx, params.id_token_hint);
      if (!hint) throw new PageError('This sign-out link is not valid', 'The id_token_hint is not an ID token issued by this server.');
    }
    const r = await parseLogoutRequest(ctx, params, hint);
    const session = await currentSession(ctx, req);
    if (session && !hint?.names(session.sub)) {
      // no proof that the signed-in user's client asks: confirm first
      const user = await ctx.repos.users.findBySub(session.sub);
      const hidden = Object.entries({ client_id: r.client?.client_id, post_logout_redirect_uri: params.post_logout_redirect_uri, state: r.state }).filter(
        (e): e is [string, string] => e[1] !== undefined,
      );
      return reply.view('logout.eta', {
        title: 'Sign out?',
        client_name: r.client?.client_name,
        account: user?.username,
        action: CONFIRM_PATH,
        csrf: reply.generateCsrf(),
        hidden,
      });
    }
    if (session) {
      await endSession(ctx, req, reply);
      await ctx.repos.audit.record({ event: 'logout', sub: session.sub, client_id: r.client?.client_id, ip: req.ip });
    }
    return finish(reply, r);
  };
  app.get(END_SESSION_PATH, { config: { page: true } }, endSessionRequest);
  app.post(END_SESSION_PATH, { config: { page: true } }, endSessionRequest);

  // the confirmation page's form
  app.post(CONFIRM_PATH, { config: { page: true }, preHandler: app.csrfProtection }, async (req, reply) => {
    const { _csrf: _c, logout: _l, ...rest } = (req.body ?? {}) as Record<string, unknown>;
    const params = singleParams(rest);
    const r = await parseLogoutRequest(ctx, params, undefined);
    const session = await currentSession(ctx, req);
    if (session) {
      await endSession(ctx, req, reply);
      await ctx.repos.audit.record({ event: 'logout', sub: session.sub, client_id: r.client?.client_id, ip: req.ip });
    }
    return finish(reply, r);
  });
}
