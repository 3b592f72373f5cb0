// Checking a username and password (authentication), shared by the login page and the
// resource owner password grant so both have the same cost, counts and answers.
//
// - argon2id verify; an unknown username verifies against a dummy hash, so it costs the same
//   time as a wrong password and nothing reveals whether a user exists.
// - Brute-force defence that cannot be turned against the user (OWASP Authentication Cheat
//   Sheet, "Account Lockout"): a lock never applies to a username alone, which anyone who knows
//   it could keep locked. Counted in the database (repositories/login-attempts.ts):
//   * the pair (username, client address) locks after LOGIN_LOCK_AFTER failures in
//     LOGIN_LOCK_SECONDS, for LOGIN_LOCK_SECONDS; the real user at another address is not locked;
//   * the username across all addresses only slows down: past LOGIN_SLOW_AFTER failures each
//     attempt waits LOGIN_SLOW_STEP_MS more, never more than LOGIN_SLOW_MAX_MS;
//   * one address across all usernames locks after LOGIN_ADDRESS_LOCK_AFTER failures
//     (credential stuffing);
//   * NIST SP 800-63B §5.2.2: no more than 100 consecutive failures on one account before a
//     stronger measure. Ours is one §5.2.2 itself names: past LOGIN_ACCOUNT_MAX_FAILURES
//     consecutive failures the account takes passwords only from addresses it signed in from
//     before (within LOGIN_KNOWN_ADDRESS_DAYS), until a sign-in succeeds. A lock of the account,
//     or a long per-account delay that every attempt shares, would hand the attacker the
//     lockout denial of service again; this measure leaves the user's usual addresses open.
// - Every refusal depends on the username only through counters kept for any username, known
//   or not, so locked and throttled answers say nothing about whether an account exists.
import type { AppContext } from '../context.js';
import type { Env } from '../config/env.js';
import { verifyAgainstDummy, verifyPassword } from '../crypto/password.js';
import type { User } from '../repositories/users.js';

export type CredentialsResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; retry_after_seconds: number };

/** The policy the LOGIN_* variables set (src/config/env.ts, README "Sign-in protection"). */
export interface SignInPolicy {
  lockAfter: number;
  lockSeconds: number;
  slowAfter: number;
  slowStepMs: number;
  slowMaxMs: number;
  addressLockAfter: number;
  accountMaxFailures: number;
  knownAddressDays: number;
}

export function signInPolicy(env: Env): SignInPolicy {
  return {
    lockAfter: env.LOGIN_LOCK_AFTER,
    lockSeconds: env.LOGIN_LOCK_SECONDS,
    slowAfter: env.LOGIN_SLOW_AFTER,
    slowStepMs: env.LOGIN_SLOW_STEP_MS,
    slowMaxMs: env.LOGIN_SLOW_MAX_MS,
    addressLockAfter: env.LOGIN_ADDRESS_LOCK_AFTER,
    accountMaxFailures: env.LOGIN_ACCOUNT_MAX_FAILURES,
    knownAddressDays: env.LOGIN_KNOWN_ADDRESS_DAYS,
  };
}

/** The wait before checking a password for a username with `failures` recent failures. */
export function slowDownMs(failures: number, policy: SignInPolicy): number {
  return Math.min(Math.max(0, failures - policy.slowAfter) * policy.slowStepMs, policy.slowMaxMs);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CredentialsDeps {
  /** how the slow-down waits (tests record it instead) */
  wait?: (ms: number) => Promise<void>;
}

export async function checkCredentials(ctx: AppContext, username: string, password: string, ip: string, deps: CredentialsDeps = {}): Promise<CredentialsResult> {
  const policy = signInPolicy(ctx.env);
  const attempts = ctx.repos.loginAttempts;
  const locked = (seconds: number): CredentialsResult => ({ ok: false, reason: 'locked', retry_after_seconds: Math.max(1, seconds) });

  // counted on the pair and the address before the password is checked, so that a burst of
  // concurrent attempts cannot all pass; on the username and the account once it failed
  const before = await attempts.begin(username, ip, policy.lockSeconds);
  const lockedFor = Math.max(before.pair.locked_seconds, before.ip.locked_seconds);
  if (lockedFor > 0) return locked(lockedFor);
  if (before.pair.failures >= policy.lockAfter || before.ip.failures >= policy.addressLockAfter) {
    // over a limit that concurrent attempts reached together: lock what is over
    if (before.pair.failures >= policy.lockAfter) await attempts.lock(username, ip, 'pair', policy.lockSeconds);
    if (before.ip.failures >= policy.addressLockAfter) await attempts.lock(username, ip, 'ip', policy.lockSeconds);
    return locked(policy.lockSeconds);
  }
  // NIST SP 800-63B §5.2.2: past the consecutive-failure limit, only addresses the user signed
  // in from before may try (an unknown username has none, so it answers the same)
  if (before.account.failures >= policy.accountMaxFailures && !(await attempts.isKnownAddress(username, ip, policy.knownAddressDays))) {
    return locked(policy.lockSeconds);
  }

  const delay = slowDownMs(before.user.failures, policy);
  if (delay > 0) await (deps.wait ?? sleep)(delay);

  const user = await ctx.repos.users.findByUsername(username);
  const valid = user ? await verifyPassword(user.password_hash, password) : await verifyAgainstDummy(password);
  if (valid && user) {
    await attempts.succeeded(username, ip, user.sub);
    return { ok: true, user };
  }

  await attempts.failed(username, ip, policy.lockSeconds);
  const lockPair = before.pair.failures + 1 >= policy.lockAfter;
  const lockIp = before.ip.failures + 1 >= policy.addressLockAfter;
  if (lockPair) await attempts.lock(username, ip, 'pair', policy.lockSeconds);
  if (lockIp) await attempts.lock(username, ip, 'ip', policy.lockSeconds);
  if (lockPair || lockIp) {
    await ctx.repos.audit.record({ event: 'login_locked', ip });
    return locked(policy.lockSeconds);
  }
  await ctx.repos.audit.record({ event: 'login_failed', ip });
  return { ok: false, reason: 'invalid' };
}
