// The consent page (INTERFACE.md "Pages"): the client's name, each scope in words, allow / deny.
// Granted scopes are remembered per user and client; deny is access_denied (RFC 6749 §4.1.2.1).
// It shows what the registry says about the client (RFC 7591 §2: logo_uri, client_uri,
// policy_uri, tos_uri), so the person can tell who asks and read its terms before allowing.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { currentSession, type CurrentSession } from '../authentication/login-session.js';
import type { AppContext } from '../context.js';
import type { Translator } from '../i18n/catalogues.js';
import { CONSENT_MAC, consentMac, isValidConsentMac, requestParams } from '../oauth/authorize/interaction.js';
import { parseAuthorizationRequest, type AuthorizationRequest } from '../oauth/authorize/request.js';
import { respond } from '../oauth/authorize/respond.js';
import { claimNames } from '../oauth/claims.js';
import { AuthorizationRedirectError, PageError } from '../oauth/errors.js';
import { describeScope } from '../oauth/scopes.js';
import type { Client } from '../repositories/clients.js';
import type { User } from '../repositories/users.js';
import { noStore } from './http.js';
import { setPageLocale } from './page-locale.js';

export const CONSENT_PATH = '/consent';

/** The scopes in words, plus any single claims asked for with the claims parameter (OIDC Core §5.5). */
function consentItems(request: AuthorizationRequest, t: Translator['t']): { name: string; description: string }[] {
  const items = request.scopes.map((name) => ({ name, description: describeScope(name, t) }));
  const byScope = claimNames(request.scopes);
  const single = [...claimNames([], [...Object.keys(request.claims?.userinfo ?? {}), ...Object.keys(request.claims?.id_token ?? {})])].filter((c) => !byScope.has(c));
  if (single.length) items.push({ name: 'claims', description: t('consent.claims', { claims: single.join(', ') }) });
  return items;
}

/** What the consent and device pages show about the client asking (RFC 7591 §2). */
export function clientView(client: Client) {
  return {
    name: client.client_name ?? client.client_id,
    logo_uri: client.logo_uri,
    client_uri: client.client_uri,
    // the host is what a person can check against the app they meant to use
    client_host: client.client_uri && new URL(client.client_uri).host,
    policy_uri: client.policy_uri,
    tos_uri: client.tos_uri,
  };
}

export async function renderConsent(ctx: AppContext, reply: FastifyReply, request: AuthorizationRequest, session: CurrentSession, user: User): Promise<FastifyReply> {
  const params = requestParams(request.params);
  const hidden = [...Object.entries(params), [CONSENT_MAC, consentMac(ctx.secretKey, params, session.id_hash)]];
  noStore(reply);
  // a pushed request or request object carries ui_locales only in its resolved parameters
  const { t } = setPageLocale(ctx, reply.request, reply, request.params.ui_locales);
  return reply.view('consent.eta', {
    title: t('consent.title', { client: request.client.client_name }),
    client: clientView(request.client),
    account: user.username,
    scopes: consentItems(request, t),
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
    if (!session || !user) throw new PageError('consent.signed_out_title', 'consent.signed_out_detail');
    // the form must be the one shown to this session for exactly this request
    if (!isValidConsentMac(ctx.secretKeys, request.params, session.id_hash))
      throw new PageError('consent.expired_title', 'consent.expired_detail');

    const decision = body.decision;
    if (decision === 'deny') {
      await ctx.repos.audit.record({ event: 'consent_denied', client_id: request.client.client_id, sub: session.sub, ip: req.ip });
      throw new AuthorizationRedirectError('access_denied', 'the user denied the request', {
        redirect_uri: request.redirect_uri,
        response_mode: request.response_mode,
        state: request.state,
      });
    }
    if (decision !== 'allow') throw new PageError('consent.choose_title', 'consent.choose_detail');
    await ctx.repos.consents.grant(session.sub, request.client.client_id, request.scopes);
    await ctx.repos.audit.record({ event: 'consent_granted', client_id: request.client.client_id, sub: session.sub, ip: req.ip, detail: { scope: request.scopes.join(' ') } });
    return respond(reply, { ctx, request, session, user });
  });
}
