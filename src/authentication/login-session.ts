// The login session cookie (authentication state of a browser). The cookie holds a random id,
// signed with SECRET_KEY; the database holds its SHA-256 and auth_time. HttpOnly, SameSite=Lax,
// Secure (and the __Host- prefix) when the issuer is https.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { sha256 } from '../crypto/hash.js';
import { randomToken } from '../crypto/random.js';
import { endLoginSession } from '../oauth/backchannel-logout/session-end.js';
import type { LoginSession } from '../repositories/sessions.js';

export function sessionCookieName(ctx: AppContext): string {
  return ctx.env.ISSUER.startsWith('https://') ? '__Host-session' : 'session';
}

function cookieValue(ctx: AppContext, request: FastifyRequest): string | undefined {
  const raw = request.cookies[sessionCookieName(ctx)];
  if (!raw) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value ? unsigned.value : undefined;
}

export interface CurrentSession extends LoginSession {
  /** the cookie value (the database keeps only its SHA-256) */
  id: string;
}

/** The live login session of this browser, if any. */
export async function currentSession(ctx: AppContext, request: FastifyRequest): Promise<CurrentSession | undefined> {
  const id = cookieValue(ctx, request);
  if (!id) return undefined;
  const s = await ctx.repos.sessions.findActive(id);
  return s && { ...s, id };
}

/** Starts a new session after a successful login; always a new id (no session fixation). */
export async function startSession(ctx: AppContext, reply: FastifyReply, sub: string, authTime = new Date()): Promise<CurrentSession> {
  const id = randomToken(32);
  const expires = new Date(Date.now() + ctx.env.LOGIN_SESSION_TTL * 1000);
  await ctx.repos.sessions.create({ id, sub, auth_time: authTime, expires_at: expires });
  reply.setCookie(sessionCookieName(ctx), id, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.env.ISSUER.startsWith('https://'),
    signed: true,
    expires,
  });
  return { id, id_hash: sha256(id), sub, auth_time: authTime, expires_at: expires };
}

/**
 * The session's `sid` (OIDC Front-/Back-Channel Logout): put in ID tokens and logout tokens, so
 * it must not open anything; a hash of the id's hash does not, and needs no column.
 */
export function sidOf(idHash: string): string {
  return sha256(`sid\0${idHash}`);
}

export async function endSession(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const id = cookieValue(ctx, request);
  // Back-Channel Logout 1.0: the clients it signed in to are told in the background
  if (id && (await endLoginSession(ctx, sha256(id)))) request.server.backchannelLogout.wake();
  reply.clearCookie(sessionCookieName(ctx), { path: '/' });
}
