// Authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2): GET and POST (§3.1.2.1). Validates
// the request, sends the person through the login and consent pages when needed, and answers
// with the response type's parameters in the response mode.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { currentSession } from '../authentication/login-session.js';
import { REQUEST_OBJECT_SIGNING_ALGS } from '../config/clients.js';
import type { AppContext } from '../context.js';
import { CLAIMS_SUPPORTED } from '../oauth/claims.js';
import { LOGIN_MARKER, loginMarker, loginRequestedAt, requestParams } from '../oauth/authorize/interaction.js';
import { nextStep } from '../oauth/authorize/prompt.js';
import { parseAuthorizationRequest, PROMPT_VALUES, RESPONSE_MODES, RESPONSE_TYPES, type AuthorizationRequest } from '../oauth/authorize/request.js';
import { respond } from '../oauth/authorize/respond.js';
import { CODE_CHALLENGE_METHODS } from '../oauth/pkce.js';
import { renderConsent } from './consent.js';
import { noStore } from './http.js';
import { toClientIfUnavailable } from './unavailable.js';

/** The login page URL that brings the person back to this request once signed in. */
function loginUrl(ctx: AppContext, request: AuthorizationRequest): string {
  const params = requestParams(request.params);
  const back = new URLSearchParams({ ...params, [LOGIN_MARKER]: loginMarker(ctx.secretKey, params) });
  const login = new URLSearchParams({ return_to: `/authorize?${back}` });
  if (request.login_hint) login.set('login_hint', request.login_hint);
  return `/login?${login}`;
}

/** Answers a validated request, or sends the person to log in or consent first. */
export async function proceed(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, request: AuthorizationRequest): Promise<FastifyReply> {
  let session = await currentSession(ctx, req);
  const user = session && (await ctx.repos.users.findBySub(session.sub));
  if (!user) session = undefined;
  const granted = session ? await ctx.repos.consents.find(session.sub, request.client.client_id) : new Set<string>();
  const next = nextStep({ request, session, granted, loginRequestedAt: loginRequestedAt(ctx.secretKeys, request.params) });
  if (next.step === 'login') return reply.redirect(loginUrl(ctx, request), 303);
  if (next.step === 'consent') return renderConsent(ctx, reply, request, session!, user!);
  return respond(reply, { ctx, request, session: session!, user: user! });
}

export async function authorizeRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // OIDC Discovery §3, RFC 8414 §2, RFC 9207 §3
  Object.assign(app.discovery, {
    authorization_endpoint: '/authorize',
    response_types_supported: [...RESPONSE_TYPES],
    response_modes_supported: [...RESPONSE_MODES],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS],
    prompt_values_supported: [...PROMPT_VALUES],
    claims_parameter_supported: true,
    claims_supported: CLAIMS_SUPPORTED,
    // RFC 9101 §10 (OIDC Discovery §3): signed request objects by value; a request_uri only from
    // our own pushed authorization request endpoint (RFC 9126), never fetched from elsewhere
    request_parameter_supported: true,
    request_uri_parameter_supported: false,
    request_object_signing_alg_values_supported: [...REQUEST_OBJECT_SIGNING_ALGS],
    require_signed_request_object: false,
    authorization_response_iss_parameter_supported: true,
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    noStore(reply);
    const request = await parseAuthorizationRequest(ctx, req.method === 'POST' ? req.body : req.query);
    return proceed(ctx, req, reply, request).catch(toClientIfUnavailable(req, request));
  };
  // errors before the redirect URI is known render as a page (config.page)
  app.get('/authorize', { config: { page: true } }, handler);
  app.post('/authorize', { config: { page: true } }, handler);
}
