// Checking a username and password (authentication), shared by the login page and the
// resource owner password grant so both have the same cost, lockout and answers.
//
// - argon2id verify; an unknown username verifies against a dummy hash, so it costs the same
//   time as a wrong password and nothing reveals whether a user exists.
// - Failures are counted per username and per client address in the database (all instances
//   see them) over a 15-minute window. Past SLOW_AFTER failures each attempt is delayed by a
//   second more; at LOCK_AFTER the key is locked for LOCK_MINUTES. Unknown usernames are
//   counted and locked the same way as real ones.
import type { AppContext } from '../context.js';
import { verifyAgainstDummy, verifyPassword } from '../crypto/password.js';
import type { User } from '../repositories/users.js';

export const LOCKOUT = {
  user: { slowAfter: 3, lockAfter: 10 },
  ip: { slowAfter: 20, lockAfter: 100 },
  lockMinutes: 15,
  maxDelayMs: 5_000,
} as const;

export type CredentialsResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; retry_after_seconds: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function checkCredentials(ctx: AppContext, username: string, password: string, ip: string): Promise<CredentialsResult> {
  const attempts = ctx.repos.loginAttempts;
  const keys = { user: `user:${username.toLowerCase()}`, ip: `ip:${ip}` };
  const [byUser, byIp] = await Promise.all([attempts.get(keys.user), attempts.get(keys.ip)]);
  const now = Date.now();
  const lockedUntil = Math.max(byUser?.locked_until?.getTime() ?? 0, byIp?.locked_until?.getTime() ?? 0);
  if (lockedUntil > now) return { ok: false, reason: 'locked', retry_after_seconds: Math.ceil((lockedUntil - now) / 1000) };

  // slow down repeated failures before locking
  const over = Math.max((byUser?.failures ?? 0) - LOCKOUT.user.slowAfter, (byIp?.failures ?? 0) - LOCKOUT.ip.slowAfter, 0);
  if (over > 0) await sleep(Math.min(over * 1000, LOCKOUT.maxDelayMs));

  const user = await ctx.repos.users.findByUsername(username);
  const valid = user ? await verifyPassword(user.password_hash, password) : await verifyAgainstDummy(password);
  if (valid && user) {
    await attempts.clear(keys.user);
    return { ok: true, user };
  }

  const [userFailures, ipFailures] = await Promise.all([attempts.fail(keys.user), attempts.fail(keys.ip)]);
  const until = new Date(Date.now() + LOCKOUT.lockMinutes * 60_000);
  if (userFailures >= LOCKOUT.user.lockAfter) await attempts.lock(keys.user, until);
  if (ipFailures >= LOCKOUT.ip.lockAfter) await attempts.lock(keys.ip, until);
  if (userFailures >= LOCKOUT.user.lockAfter || ipFailures >= LOCKOUT.ip.lockAfter) {
    await ctx.repos.audit.record({ event: 'login_locked', ip });
    return { ok: false, reason: 'locked', retry_after_seconds: LOCKOUT.lockMinutes * 60 };
  }
  await ctx.repos.audit.record({ event: 'login_failed', ip });
  return { ok: false, reason: 'invalid' };
}
