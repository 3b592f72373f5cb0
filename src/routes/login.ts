// The login page (INTERFACE.md "Pages"): username and password, CSRF, no JavaScript needed.
// Other pages send people here with /login?return_to=<local path> and get them back, signed in.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkCredentials } from '../authentication/credentials.js';
import { currentSession, startSession } from '../authentication/login-session.js';
import { replaceLoginSession } from '../oauth/backchannel-logout/session-end.js';
import type { AppContext } from '../context.js';
import { noStore } from './http.js';

/**
 * A path on this server to go back to after login: begins with exactly one "/" (not "//" or
 * "/\", which browsers read as another host) and holds only visible ASCII, so it can never send
 * the person elsewhere (RFC 9700 §4.11: no open redirector).
 */
export function safeReturnTo(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7E]*$/.test(value) ? value : undefined;
}

// each field on its own: a login_hint too long (or repeated) to prefill must not lose return_to
const loginQuery = z.object({ return_to: z.string().optional().catch(undefined), login_hint: z.string().max(200).optional().catch(undefined) });
const loginBody = z.object({
  username: z.string().max(200).default(''),
  password: z.string().max(1000).default(''),
  return_to: z.string().optional(),
});

/** POST /login is rate limited per address on top of the sign-in counters (credentials.ts). */
export const LOGIN_RATE_LIMIT = { max: 60, timeWindow: '1 minute' } as const;

interface LoginView {
  return_to: string | undefined;
  username?: string | undefined;
  error?: string | undefined;
  signed_in?: string | undefined;
}

/** The application the person signs in for, when they came from an authorization request. */
async function clientNameFor(ctx: AppContext, returnTo: string | undefined): Promise<string | undefined> {
  if (!returnTo?.startsWith('/authorize?')) return undefined;
  const clientId = new URLSearchParams(returnTo.slice('/authorize?'.length)).get('client_id');
  return clientId ? (await ctx.clients.get(clientId))?.client_name : undefined;
}

async function renderLogin(ctx: AppContext, reply: FastifyReply, v: LoginView, status = 200) {
  noStore(reply);
  return reply.code(status).view('login.eta', {
    title: 'Sign in',
    csrf: reply.generateCsrf(),
    client_name: await clientNameFor(ctx, v.return_to),
    ...v,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * auth_time of a new login: now, but always in a later second than the session it replaces, so
 * that a client that asked for a new login (prompt=login, max_age; OIDC Core §3.1.2.1) sees a
 * larger auth_time in the ID token, whose times are whole seconds.
 */
async function newAuthTime(previous: Date | undefined): Promise<Date> {
  const prevSecond = previous ? Math.floor(previous.getTime() / 1000) : -Infinity;
  const now = Date.now();
  if (Math.floor(now / 1000) > prevSecond) return new Date(now);
  const next = (prevSecond + 1) * 1000;
  await sleep(next - now);
  return new Date(Math.max(Date.now(), next));
}

export async function loginRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/login', { config: { page: true } }, async (request: FastifyRequest, reply) => {
    const q = loginQuery.safeParse(request.query);
    const query = q.success ? q.data : {};
    const return_to = safeReturnTo(query.return_to);
    // a person who opens the page directly sees whom they are signed in as
    const session = return_to ? undefined : await currentSession(ctx, request);
    const user = session && (await ctx.repos.users.findBySub(session.sub));
    // OIDC Core §3.1.2.1: login_hint fills in the username
    return renderLogin(ctx, reply, { return_to, username: query.login_hint, signed_in: user?.username });
  });

  app.post(
    '/login',
    { config: { page: true, rateLimit: LOGIN_RATE_LIMIT }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const parsed = loginBody.safeParse(request.body ?? {});
      const body = parsed.success ? parsed.data : { username: '', password: '', return_to: undefined };
      const return_to = safeReturnTo(body.return_to);
      const username = body.username.trim();
      if (!username || !body.password) return renderLogin(ctx, reply, { return_to, username, error: 'Enter your username and password.' }, 400);

      // argon2id; unknown users cost the same; failures slow down the username and lock the pair (credentials.ts)
      const result = await checkCredentials(ctx, username, body.password, request.ip);
      request.server.metrics?.credentialsChecked('login_page', result);
      if (!result.ok) {
        if (result.reason === 'locked') {
          const minutes = Math.max(1, Math.ceil(result.retry_after_seconds / 60));
          reply.header('retry-after', String(result.retry_after_seconds));
          const error = `Too many failed attempts: sign-in is locked for ${minutes} minute${minutes === 1 ? '' : 's'}. Try again later.`;
          return renderLogin(ctx, reply, { return_to, username, error }, 429);
        }
        // the same words whether the user exists or not
        return renderLogin(ctx, reply, { return_to, username, error: 'Wrong username or password.' });
      }

      // a new session id on every login (no session fixation); the one it replaces ends
      const previous = await currentSession(ctx, request);
      const session = await startSession(ctx, reply, result.user.sub, await newAuthTime(previous?.auth_time));
      // Back-Channel Logout: a login as another user ends the old session like a logout
      if (previous && (await replaceLoginSession(ctx, previous, session))) request.server.backchannelLogout.wake();
      await ctx.repos.audit.record({ event: 'login', sub: result.user.sub, ip: request.ip });
      noStore(reply);
      return reply.redirect(return_to ?? '/login', 303);
    },
  );
}
