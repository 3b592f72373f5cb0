// The password grant checks passwords exactly like the login page: argon2id for a real user,
// a dummy argon2id verify for an unknown one (same cost, RFC 6749 §10.6 / issue 4).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkCredentials } from '../../src/authentication/credentials.js';
import { INVALID_CREDENTIALS, LOCKED } from '../../src/oauth/grants/password.js';
import { ALICE, claimsOf, SECRETS, startTestServer, type TestServer } from '../support/harness.js';

const calls = vi.hoisted(() => ({ verify: 0, dummy: 0 }));
vi.mock('../../src/crypto/password.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/crypto/password.js')>();
  return {
    ...real,
    verifyPassword: async (hash: string, password: string) => {
      calls.verify++;
      return real.verifyPassword(hash, password);
    },
    verifyAgainstDummy: async (password: string) => {
      calls.dummy++;
      return real.verifyAgainstDummy(password);
    },
  };
});

let s: TestServer;
beforeAll(async () => {
  // no per-username slow-down: the lockout test below fails one username many times
  s = await startTestServer({ env: { LOGIN_SLOW_AFTER: '1000' } });
});
afterAll(async () => s?.close());

const passwordGrant = (body: Record<string, string>) =>
  s.app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'password', client_id: 'legacy', client_secret: SECRETS.legacy, ...body }).toString(),
  });

describe('password grant: credential checks', () => {
  it('verifies a known user with argon2id and an unknown one against the dummy hash', async () => {
    calls.verify = 0;
    calls.dummy = 0;
    const ok = await passwordGrant({ username: ALICE.username, password: ALICE.password });
    expect(ok.statusCode).toBe(200);
    expect(calls).toEqual({ verify: 1, dummy: 0 });
    const unknown = await passwordGrant({ username: 'no-such-user', password: ALICE.password });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toBe('invalid_grant');
    // the dummy verify runs argon2id too (verifyAgainstDummy calls verifyPassword), so an unknown
    // username costs one argon2id verify like a wrong password does
    expect(calls.dummy).toBe(1);
  });

  it('creates one grants row per authorization with the user, the scope and auth_time', async () => {
    const before = Date.now();
    const r = await passwordGrant({ username: ALICE.username, password: ALICE.password, scope: 'openid email' });
    expect(r.statusCode).toBe(200);
    const grantId = claimsOf(r.json().access_token).grant_id as string;
    const row = await s.ctx.repos.grants.findGrant(grantId);
    expect(row).toMatchObject({ client_id: 'legacy', sub: ALICE.sub, scope: 'openid email', revoked_at: null });
    expect(row!.auth_time!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    // the grant lives as long as its refresh token may
    expect(row!.expires_at.getTime()).toBeGreaterThan(Date.now() + 1_000_000_000);
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('never echoes the password or the username in an error', async () => {
    const r = await passwordGrant({ username: 'someone-unique-name', password: 'secret-pass-9876' });
    expect(r.body).not.toContain('someone-unique-name');
    expect(r.body).not.toContain('secret-pass-9876');
  });
});

describe('password grant: the lockout of the login page', () => {
  it('locks at the same threshold for a real and an unknown username, with one answer for both, then refuses the right password', async () => {
    const ghost = 'ghost-of-alice';
    const { LOGIN_LOCK_AFTER, LOGIN_LOCK_SECONDS } = s.ctx.env;
    // one failure short of the lock, for both usernames, from the address app.inject uses, as failed sign-ins count them
    for (const username of [ALICE.username, ghost]) for (let i = 1; i < LOGIN_LOCK_AFTER; i++) await checkCredentials(s.ctx, username, 'wrong-0', '127.0.0.1');
    try {
      const [known, unknown] = await Promise.all([passwordGrant({ username: ALICE.username, password: 'wrong-1' }), passwordGrant({ username: ghost, password: 'wrong-1' })]);
      for (const r of [known, unknown]) {
        expect(r.statusCode).toBe(400);
        expect(r.json()).toEqual({ error: 'invalid_grant', error_description: LOCKED });
      }
      expect((await s.ctx.repos.loginAttempts.state(ALICE.username, '127.0.0.1', LOGIN_LOCK_SECONDS)).pair.locked_seconds).toBeGreaterThan(0);
      // locked: the right password is refused too, and the answer never says which part was wrong
      const right = await passwordGrant({ username: ALICE.username, password: ALICE.password });
      expect(right.json()).toEqual({ error: 'invalid_grant', error_description: LOCKED });
      expect(LOCKED).not.toMatch(/password|username|user/i);
      expect(INVALID_CREDENTIALS).not.toMatch(/password|username/i);
    } finally {
      await s.ctx.db.deleteFrom('login_attempts').execute();
    }
  });
});
