// Metric families (issue 8, point 2): each one shows on /metrics and moves when its event happens.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CredentialsResult } from '../../src/authentication/credentials.js';
import { MetricsRepository } from '../../src/repositories/metrics.js';
import { get, Jar, onlyForm, post } from '../authorize/support.js';
import { decide, startDevice } from '../device/helpers.js';
import { issueCode, tokenRequest } from '../grants/fixtures.js';
import { ALICE, basic, REDIRECT, SECRETS, startTestServer, TEST_DATABASE_URL, type TestServer } from '../support/harness.js';
import { change, METRICS_TOKEN, sample, scrape } from './support.js';

// checkCredentials as it is, unless a test makes it answer `forced` (the lockout policy is not
// what these tests are about: only that its callers count what it answers)
const forced = vi.hoisted(() => ({ result: undefined as CredentialsResult | undefined }));
vi.mock('../../src/authentication/credentials.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/authentication/credentials.js')>();
  return { ...real, checkCredentials: async (...args: Parameters<typeof real.checkCredentials>) => forced.result ?? real.checkCredentials(...args) };
});

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { METRICS_TOKEN } });
});
afterAll(async () => s?.close());

const clientCredentials = (secret = SECRETS.service) => tokenRequest(s, { grant_type: 'client_credentials' }, basic('service', secret));

async function loginAttempt(password: string) {
  const jar = new Jar();
  const form = onlyForm((await get(s, jar, '/login')).body, s.issuer);
  return post(s, jar, '/login', { ...form.fields, username: ALICE.username, password });
}

const passwordGrant = (password: string) =>
  tokenRequest(s, { grant_type: 'password', client_id: 'legacy', client_secret: SECRETS.legacy, username: ALICE.username, password });

describe('requests: count and latency per route pattern and status', () => {
  it('labels a request with its route pattern, never the raw URL, and counts it in the histogram', async () => {
    const labels = { method: 'GET', route: '/login', status_code: '200' };
    expect(await change(s, 'oauth_http_request_duration_seconds_count', labels, () => get(s, new Jar(), '/login?return_to=%2Fdevice%3Fuser_code%3DSECRETCODE'))).toBe(1);
    const text = await scrape(s);
    expect(sample(text, 'oauth_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'oauth_http_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
    expect(text).not.toContain('SECRETCODE');
    expect(text).not.toContain('return_to');
  });

  it('counts each status of a route apart', async () => {
    const ok = { method: 'POST', route: '/token', status_code: '200' };
    const refused = { ...ok, status_code: '401' };
    const before = await scrape(s);
    await clientCredentials();
    await clientCredentials('wrong-secret-0123456789-0123456789-0123');
    const after = await scrape(s);
    expect(sample(after, 'oauth_http_request_duration_seconds_count', ok)! - (sample(before, 'oauth_http_request_duration_seconds_count', ok) ?? 0)).toBe(1);
    expect(sample(after, 'oauth_http_request_duration_seconds_count', refused)! - (sample(before, 'oauth_http_request_duration_seconds_count', refused) ?? 0)).toBe(1);
  });

  it('puts every path that matches no route under one label, so scanners cannot grow the series', async () => {
    const labels = { method: 'GET', route: '(unmatched)', status_code: '404' };
    const moved = await change(s, 'oauth_http_request_duration_seconds_count', labels, async () => {
      for (const p of ['/wp-admin/x1', '/etc/passwd-x2', '/.env-x3']) expect((await s.app.inject({ method: 'GET', url: p })).statusCode).toBe(404);
    });
    expect(moved).toBe(3);
    const text = await scrape(s);
    for (const p of ['wp-admin', 'passwd-x2', '.env-x3']) expect(text).not.toContain(p);
  });
});

describe('events', () => {
  it('counts tokens issued per grant type, and not refusals', async () => {
    const labels = { grant_type: 'client_credentials' };
    expect(sample(await scrape(s), 'oauth_tokens_issued_total', { grant_type: 'password' })).toBe(0); // every grant type shows
    expect(await change(s, 'oauth_tokens_issued_total', labels, () => clientCredentials())).toBe(1);
    expect(await change(s, 'oauth_tokens_issued_total', labels, () => clientCredentials('wrong-secret-0123456789-0123456789-0123'))).toBe(0);
  });

  it('counts failed client authentications by route and attempted method', async () => {
    const labels = { route: '/token', method: 'client_secret_basic' };
    expect(await change(s, 'oauth_client_auth_failures_total', labels, () => clientCredentials('wrong-secret-0123456789-0123456789-0123'))).toBe(1);
    const post = { route: '/token', method: 'client_secret_post' };
    expect(await change(s, 'oauth_client_auth_failures_total', post, () => tokenRequest(s, { grant_type: 'password', client_id: 'legacy', client_secret: 'nope-0123456789-0123456789-0123456789' }))).toBe(1);
    expect(await change(s, 'oauth_client_auth_failures_total', labels, () => clientCredentials())).toBe(0);
  });

  it('counts login successes and failures at the login page', async () => {
    const labels = (outcome: string) => ({ via: 'login_page', outcome });
    expect(await change(s, 'oauth_logins_total', labels('failure'), () => loginAttempt('wrong-password'))).toBe(1);
    expect(await change(s, 'oauth_logins_total', labels('success'), async () => expect((await loginAttempt(ALICE.password)).statusCode).toBe(303))).toBe(1);
  });

  it('counts password grant successes and failures', async () => {
    const labels = (outcome: string) => ({ via: 'password_grant', outcome });
    expect(await change(s, 'oauth_logins_total', labels('failure'), () => passwordGrant('wrong-password'))).toBe(1);
    expect(await change(s, 'oauth_logins_total', labels('success'), async () => expect((await passwordGrant(ALICE.password)).statusCode).toBe(200))).toBe(1);
  });

  it('counts lockouts at both callers', async () => {
    forced.result = { ok: false, reason: 'locked', retry_after_seconds: 60 };
    try {
      expect(await change(s, 'oauth_logins_total', { via: 'login_page', outcome: 'locked' }, async () => expect((await loginAttempt(ALICE.password)).statusCode).toBe(429))).toBe(1);
      expect(await change(s, 'oauth_logins_total', { via: 'password_grant', outcome: 'locked' }, () => passwordGrant(ALICE.password))).toBe(1);
    } finally {
      forced.result = undefined;
    }
  });

  it('counts refresh token reuse detections', async () => {
    const web = basic('web', SECRETS.web);
    const c = await issueCode(s.ctx);
    const first = (await tokenRequest(s, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier ?? undefined }, web)).json().refresh_token as string;
    expect((await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: first }, web)).statusCode).toBe(200);
    expect(sample(await scrape(s), 'oauth_refresh_token_reuse_total')).toBeDefined();
    const moved = await change(s, 'oauth_refresh_token_reuse_total', {}, async () => {
      const reused = await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: first }, web);
      expect(reused.json().error).toBe('invalid_grant');
    });
    expect(moved).toBe(1);
  });
});

describe('read at scrape time', () => {
  it('shows the device codes pending on the database', async () => {
    const pending = async () => sample(await scrape(s), 'oauth_device_codes_pending')!;
    const before = await pending();
    const a = await startDevice(s);
    await startDevice(s);
    expect(await pending()).toBe(before + 2);
    await decide(s.ctx, a.user_code, true);
    expect(await pending()).toBe(before + 1);
  });

  it('shows the age of the signing key of each algorithm', async () => {
    await s.ctx.db.updateTable('signing_keys').set({ created_at: sql`now() - interval '3 days'` } as never).execute();
    // a key rotated in a moment ago is published but does not sign until its delay is out: the
    // age is still the one of the key that signs
    await sql`insert into signing_keys (kid, alg, public_jwk, private_jwk_encrypted, activates_at)
      select 'waiting-' || alg, alg, public_jwk, private_jwk_encrypted, now() + interval '10 minutes' from signing_keys`.execute(s.ctx.db);
    // as `keys rotate` leaves them: the key that signs now stops when the waiting one starts
    await sql`update signing_keys set retired_at = now() + interval '10 minutes' where kid not like 'waiting-%'`.execute(s.ctx.db);
    try {
      const text = await scrape(s);
      for (const alg of ['RS256', 'ES256']) {
        const age = sample(text, 'oauth_signing_key_age_seconds', { alg })!;
        expect(age).toBeGreaterThan(3 * 86_400 - 60);
        expect(age).toBeLessThan(3 * 86_400 + 600);
      }
    } finally {
      await sql`delete from signing_keys where kid like 'waiting-%'`.execute(s.ctx.db);
      await sql`update signing_keys set retired_at = null`.execute(s.ctx.db);
    }
  });

  it('shows the connection pool and counts database errors', async () => {
    const text = await scrape(s);
    expect(sample(text, 'oauth_db_pool_max_connections')).toBe(TEST_DATABASE_URL ? 5 : 1);
    expect(sample(text, 'oauth_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'oauth_db_pool_idle_connections')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'oauth_db_pool_waiting_requests')).toBe(0);
    const moved = await change(s, 'oauth_db_errors_total', { kind: 'query' }, () => sql`select * from no_such_table`.execute(s.ctx.db).catch(() => undefined));
    expect(moved).toBe(1);
  });

  it('shows queries waiting for a connection while the pool is busy', async () => {
    const max = sample(await scrape(s), 'oauth_db_pool_max_connections')!;
    // hold every connection, then ask for one more
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holders = Array.from({ length: max }, () => s.ctx.db.connection().execute(() => held));
    const waiter = s.ctx.db.connection().execute(async (c) => sql`select 1`.execute(c));
    try {
      await vi.waitFor(async () => expect(sample(await scrapeWithoutDb(), 'oauth_db_pool_waiting_requests')).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    } finally {
      release();
      await Promise.all([...holders, waiter]);
    }
    expect(sample(await scrape(s), 'oauth_db_pool_waiting_requests')).toBe(0);
  });

  it('answers a scrape while the database does not: what it could not read is NaN', async () => {
    const spy = vi.spyOn(MetricsRepository.prototype, 'pendingDeviceCodes').mockRejectedValue(new Error('connection refused'));
    try {
      const text = await scrape(s);
      // prom-client writes NaN as `Nan`; Prometheus reads it case-insensitively
      expect(text).toMatch(/^oauth_device_codes_pending NaN$/im);
      expect(sample(text, 'oauth_tokens_issued_total', { grant_type: 'client_credentials' })).toBeGreaterThan(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('shows process metrics', async () => {
    const text = await scrape(s);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });
});

/**
 * A scrape while every connection is held: the gauges read from the database would wait for one
 * (and give up after their timeout), so this one leaves them out.
 */
async function scrapeWithoutDb(): Promise<string> {
  const spies = [
    vi.spyOn(MetricsRepository.prototype, 'pendingDeviceCodes').mockResolvedValue(0),
    vi.spyOn(MetricsRepository.prototype, 'signingKeyAges').mockResolvedValue([]),
  ];
  try {
    return await scrape(s);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('secrets', () => {
  it('never shows a secret: client secrets, passwords, tokens, the metrics token', async () => {
    const issued = (await clientCredentials()).json().access_token as string;
    await passwordGrant('a-wrong-password-to-look-for');
    await clientCredentials('a-wrong-secret-to-look-for-0123456789-0123');
    const text = await scrape(s);
    for (const secret of [...Object.values(SECRETS), ALICE.password, 'a-wrong-password-to-look-for', 'a-wrong-secret-to-look-for', issued, issued.split('.')[2]!, METRICS_TOKEN, s.ctx.secretKey])
      expect(text).not.toContain(secret);
    // label values are route patterns, methods, statuses, grant types, outcomes: nothing a client chose
    expect(text).not.toContain('alice');
  });
});
