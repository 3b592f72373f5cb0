// Brute-force defence that cannot be turned against users (issue 8, point 1;
// src/authentication/credentials.ts): the pair (username, address) locks, the username only
// slows down (to a ceiling), an address is limited across usernames, and NIST SP 800-63B §5.2.2's
// 100 consecutive failures bring a stronger measure that leaves the user's own addresses open.
// Every refusal is the same for a username that does not exist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCredentials, type CredentialsResult } from '../../src/authentication/credentials.js';
import { loadEnv } from '../../src/config/env.js';
import { Jar, onlyForm } from '../authorize/support.js';
import { ALICE, startTestServer, type TestServer } from '../support/harness.js';

/** Waits of the per-username slow-down, recorded instead of slept. */
function recorder() {
  const waits: number[] = [];
  return { waits, wait: async (ms: number) => void waits.push(ms) };
}
const noWait = { wait: async () => {} };

/** A sign-in at the login page from one client address (app.inject's remoteAddress), optionally through a proxy. */
async function signIn(s: TestServer, remoteAddress: string, username: string, password: string, headers: Record<string, string> = {}) {
  const jar = new Jar();
  const page = jar.take(await s.app.inject({ method: 'GET', url: '/login', remoteAddress, headers }));
  const form = onlyForm(page.body, s.issuer);
  return jar.take(
    await s.app.inject({
      method: 'POST',
      url: '/login',
      remoteAddress,
      headers: { ...jar.header(), ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...form.fields, username, password }).toString(),
    }),
  );
}
const signedIn = (res: { statusCode: number; cookies: { name: string }[] }) => res.statusCode === 303 && res.cookies.some((c) => c.name === 'session');

describe('the lock is on the pair (username, address)', () => {
  let s: TestServer;
  beforeAll(async () => {
    // the slow-down waits a millisecond at most here: its own test below checks it
    s = await startTestServer({ env: { LOGIN_SLOW_STEP_MS: '1', LOGIN_SLOW_MAX_MS: '1' } });
  });
  afterAll(async () => s?.close());

  it('12 failures from one address lock that address out; the right password from another address signs in', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 12; i++) answers.push((await signIn(s, '127.0.0.2', ALICE.username, `wrong-${i}`)).statusCode);
    // the 10th failure locks (429 from then on); the ones before are plain wrong passwords
    expect(answers).toEqual([...Array(9).fill(200), 429, 429, 429]);
    const locked = await signIn(s, '127.0.0.2', ALICE.username, ALICE.password);
    expect(locked.statusCode).toBe(429);
    expect(signedIn(locked)).toBe(false);

    expect(signedIn(await signIn(s, '127.0.0.3', ALICE.username, ALICE.password))).toBe(true);
    // the password grant shares the counts (both call checkCredentials)
    expect((await checkCredentials(s.ctx, ALICE.username, ALICE.password, '127.0.0.2')).ok).toBe(false);
    expect((await checkCredentials(s.ctx, ALICE.username, ALICE.password, '127.0.0.4')).ok).toBe(true);
  });

  it('counts the address a trusted proxy reports (TRUST_PROXY), and only that of a trusted proxy', async () => {
    const proxied = await startTestServer({ env: { TRUST_PROXY: '127.0.0.1', LOGIN_LOCK_AFTER: '3', LOGIN_SLOW_STEP_MS: '1', LOGIN_SLOW_MAX_MS: '1' } });
    try {
      const via = (client: string) => ({ 'x-forwarded-for': client });
      for (let i = 0; i < 3; i++) await signIn(proxied, '127.0.0.1', ALICE.username, 'wrong', via('203.0.113.10'));
      expect((await signIn(proxied, '127.0.0.1', ALICE.username, ALICE.password, via('203.0.113.10'))).statusCode).toBe(429);
      expect(signedIn(await signIn(proxied, '127.0.0.1', ALICE.username, ALICE.password, via('203.0.113.11')))).toBe(true);
      // a client that is not a trusted proxy cannot choose its address with the header
      for (let i = 0; i < 3; i++) await signIn(proxied, '198.51.100.20', ALICE.username, 'wrong', via(`203.0.113.${100 + i}`));
      expect((await signIn(proxied, '198.51.100.20', ALICE.username, ALICE.password, via('203.0.113.200'))).statusCode).toBe(429);
    } finally {
      await proxied.close();
    }
  });

  it('trusts no proxy header by default in development, and only proxies on private networks in production', () => {
    expect(loadEnv({}).TRUST_PROXY).toBe(false);
    const production = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', SECRET_KEY: 'k'.repeat(32) };
    expect(loadEnv(production).TRUST_PROXY).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    expect(loadEnv({ ...production, TRUST_PROXY: '10.0.0.0/8, 192.0.2.1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '192.0.2.1']);
    expect(() => loadEnv({ TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY: must be true, false, or a comma-separated list/);
  });
});

describe('the username slows down across addresses, to a ceiling', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it(`waits a second more per failure past LOGIN_SLOW_AFTER, never more than LOGIN_SLOW_MAX_MS, the same for an unknown username`, async () => {
    const { LOGIN_SLOW_AFTER, LOGIN_SLOW_STEP_MS, LOGIN_SLOW_MAX_MS } = s.ctx.env;
    expect([LOGIN_SLOW_AFTER, LOGIN_SLOW_STEP_MS, LOGIN_SLOW_MAX_MS]).toEqual([3, 1000, 3000]);
    const waitsOf = async (username: string) => {
      const r = recorder();
      // each from its own address, so no pair locks: the slow-down is per username
      for (let i = 1; i <= 9; i++) expect(await checkCredentials(s.ctx, username, 'wrong', `192.0.2.${i}`, r)).toEqual({ ok: false, reason: 'invalid' });
      return r.waits;
    };
    const known = await waitsOf(ALICE.username);
    // attempts 1-4 wait nothing (3 failures or fewer before them), then 1 s, 2 s, then the 3 s ceiling
    expect(known).toEqual([1000, 2000, 3000, 3000, 3000]);
    expect(await waitsOf('nobody-at-all')).toEqual(known);
    // the right password is slowed down too (the wait comes before the check), and then it signs in
    const r = recorder();
    expect((await checkCredentials(s.ctx, ALICE.username, ALICE.password, '192.0.2.77', r)).ok).toBe(true);
    expect(r.waits).toEqual([3000]);
  });
});

describe('one address is limited across usernames (credential stuffing)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { LOGIN_ADDRESS_LOCK_AFTER: '5' } });
  });
  afterAll(async () => s?.close());

  it('locks the address after LOGIN_ADDRESS_LOCK_AFTER failures over any usernames; other addresses go on', async () => {
    const results: CredentialsResult[] = [];
    for (let i = 0; i < 5; i++) results.push(await checkCredentials(s.ctx, `user-${i}`, 'Summer2024!', '192.0.2.50', noWait));
    expect(results.slice(0, 4)).toEqual(Array(4).fill({ ok: false, reason: 'invalid' }));
    expect(results[4]).toEqual({ ok: false, reason: 'locked', retry_after_seconds: s.ctx.env.LOGIN_LOCK_SECONDS });
    // locked for every username, even with a right password, and the same for one that does not exist
    const alice = await checkCredentials(s.ctx, ALICE.username, ALICE.password, '192.0.2.50', noWait);
    const ghost = await checkCredentials(s.ctx, 'ghost', 'whatever', '192.0.2.50', noWait);
    expect(alice).toMatchObject({ ok: false, reason: 'locked' });
    expect(ghost).toMatchObject({ ok: false, reason: 'locked' });
    expect(Math.abs((alice as { retry_after_seconds: number }).retry_after_seconds - (ghost as { retry_after_seconds: number }).retry_after_seconds)).toBeLessThanOrEqual(1);
    expect((await checkCredentials(s.ctx, ALICE.username, ALICE.password, '192.0.2.51', noWait)).ok).toBe(true);
  });

  it('counts a successful sign-in from a shared address as no failure', async () => {
    for (let i = 0; i < 10; i++) expect((await checkCredentials(s.ctx, ALICE.username, ALICE.password, '192.0.2.60', noWait)).ok).toBe(true);
    expect((await s.ctx.repos.loginAttempts.state(ALICE.username, '192.0.2.60', s.ctx.env.LOGIN_LOCK_SECONDS)).ip.failures).toBe(0);
  });
});

describe('NIST SP 800-63B §5.2.2: no more than 100 consecutive failures before a stronger measure', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it('refuses a limit above 100', () => {
    expect(loadEnv({ LOGIN_ACCOUNT_MAX_FAILURES: '100' }).LOGIN_ACCOUNT_MAX_FAILURES).toBe(100);
    expect(() => loadEnv({ LOGIN_ACCOUNT_MAX_FAILURES: '101' })).toThrow(/LOGIN_ACCOUNT_MAX_FAILURES: must be a whole number from 1 to 100/);
  });

  it('after 100 consecutive failures takes passwords only from addresses the user signed in from; a success there starts the count again', { timeout: 180_000 }, async () => {
    expect(s.ctx.env.LOGIN_ACCOUNT_MAX_FAILURES).toBe(100);
    // Alice signed in from her usual address once
    expect((await checkCredentials(s.ctx, ALICE.username, ALICE.password, '198.51.100.1', noWait)).ok).toBe(true);
    // 100 failures, each from its own address (no pair or address lock), for Alice and for a username that does not exist
    const fail = async (username: string, n: number) => checkCredentials(s.ctx, username, `guess-${n}`, `10.0.${Math.floor(n / 200)}.${n % 200}`, noWait);
    for (let n = 1; n <= 100; n++) {
      const [a, g] = await Promise.all([fail(ALICE.username, n), fail('ghost-admin', n)]);
      // each of the 100 was a real check: a wrong password, not yet a refusal
      expect(a).toEqual({ ok: false, reason: 'invalid' });
      expect(g).toEqual(a);
    }
    // the stronger measure: from a new address even the right password is refused, the same as for the ghost
    const fromNew = await checkCredentials(s.ctx, ALICE.username, ALICE.password, '203.0.113.50', noWait);
    const ghost = await checkCredentials(s.ctx, 'ghost-admin', 'anything', '203.0.113.50', noWait);
    expect(fromNew).toEqual({ ok: false, reason: 'locked', retry_after_seconds: s.ctx.env.LOGIN_LOCK_SECONDS });
    expect(ghost).toEqual(fromNew);
    // her usual address is still open: the attacker cannot lock her out
    expect((await checkCredentials(s.ctx, ALICE.username, ALICE.password, '198.51.100.1', noWait)).ok).toBe(true);
    // that success ends the consecutive run: a new address works again
    expect((await checkCredentials(s.ctx, ALICE.username, ALICE.password, '203.0.113.51', noWait)).ok).toBe(true);
    // the ghost, which never signs in, stays under the measure from any new address
    expect(await checkCredentials(s.ctx, 'ghost-admin', 'anything', '203.0.113.52', noWait)).toEqual(fromNew);
  });
});
