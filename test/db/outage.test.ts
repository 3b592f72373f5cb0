// Issue 8 point 6: PostgreSQL goes away and comes back. On a throwaway cluster this file starts,
// stops, freezes and removes itself (test/support/pg-cluster.ts), never the shared server, so it
// runs the same whatever TEST_DATABASE_URL says. While the database is away, what needs it
// answers 503 + Retry-After + temporarily_unavailable within a bounded time, /readyz says not
// ready, and client_credentials keeps issuing tokens from the caches; once it is back, service
// resumes within 5 s with no restart. A server started while it is down waits for it.
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/db/index.js';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';
import { get, Jar, onlyForm, post, redirectParams, signedIn, codeRequest, authorizeUrl } from '../authorize/support.js';
import { ALICE, basic, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { createCluster, freePort, type Cluster } from '../support/pg-cluster.js';

/** Generous bounds for a loaded 2-core machine; without the pool's timeouts a frozen database hangs forever. */
const BOUND_MS = 15_000;
const TIMEOUTS = { connectTimeout: 2, queryTimeout: 2 };

let cluster: Cluster;
let db: Db;
let s: TestServer;

beforeAll(async () => {
  cluster = await createCluster();
  cluster.start();
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query('create database outage');
  await admin.query('create database startup');
  await admin.end();
  db = await openDatabase({ databaseUrl: cluster.url('outage'), poolSize: 5, timeouts: TIMEOUTS });
  await migrate(db);
  s = await startTestServer({ db });
}, 120_000);

afterAll(async () => {
  // the cluster first: queries of a test that failed while it was frozen wait on it
  cluster?.remove();
  await s?.close();
  await db?.destroy();
});

/** A form-encoded POST, as every back-channel endpoint takes it. */
function postForm(url: string, body: Record<string, string>, authorization?: string) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) };
  return s.app.inject({ method: 'POST', url, headers, payload: new URLSearchParams(body).toString() });
}
const tokenRequest = (body: Record<string, string>, authorization?: string) => postForm('/token', body, authorization);

const clientCredentials = () => within(() => tokenRequest({ grant_type: 'client_credentials' }, basic('service', SECRETS.service)));
const refresh = (refresh_token: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token, client_id: 'legacy', client_secret: SECRETS.legacy });

/** The answer to `request`, or a failure once BOUND_MS has passed without one (a hang). */
async function within(request: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${BOUND_MS} ms`)), BOUND_MS)));
  try {
    return await Promise.race([request(), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `request` and checks that it came within the bound, as a 503 of the RFC 6749 shape. */
async function expectUnavailable(request: () => Promise<LightMyRequestResponse>) {
  const res = await within(request);
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['retry-after']).toMatch(/^\d+$/);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/) });
  expect(res.body).not.toMatch(/\n\s+at |ECONNREFUSED|stack/);
  return res;
}

/** Polls until `ok` holds; returns how long it took after `since`. */
async function until(ok: () => Promise<boolean>, since: number, limitMs = 30_000): Promise<number> {
  for (;;) {
    if (await ok()) return Date.now() - since;
    if (Date.now() - since > limitMs) throw new Error(`not back after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every request that needs the database, and what each must answer while it is away. */
async function expectEveryEndpointUnavailable(tokens: { refresh_token: string; access_token: string }, session: Jar, loginPage: Jar) {
  await expectUnavailable(() => refresh(tokens.refresh_token));
  await expectUnavailable(() => s.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${tokens.access_token}` } }));
  await expectUnavailable(() => postForm('/introspect', { token: tokens.access_token }, basic('service', SECRETS.service)));
  // RFC 7009 §2.2.1: 503, so the client knows the token was not revoked and tries again
  await expectUnavailable(() => postForm('/revoke', { token: tokens.refresh_token, client_id: 'legacy', client_secret: SECRETS.legacy }));
  await expectUnavailable(() => postForm('/device_authorization', { client_id: 'tv', scope: 'openid' }));

  // a page: readable, 503 with Retry-After, no stack
  const login = onlyForm((await within(() => get(s, loginPage, '/login'))).body, s.issuer);
  const page = await within(() => post(s, loginPage, '/login', { ...login.fields, username: ALICE.username, password: ALICE.password }));
  expect(page.statusCode).toBe(503);
  expect(page.headers['retry-after']).toMatch(/^\d+$/);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.body).toContain('temporarily_unavailable');
  expect(page.body).not.toMatch(/\n\s+at |ECONNREFUSED/);

  // the authorization endpoint, once the client and its redirect URI are known: the client is
  // told, on its redirect URI (RFC 6749 §4.1.2.1)
  const request = codeRequest();
  const res = await within(() => get(s, session, authorizeUrl(request)));
  const { url, params } = redirectParams(res);
  expect(`${url.origin}${url.pathname}`).toBe(request.redirect_uri);
  expect(params.get('error')).toBe('temporarily_unavailable');
  expect(params.get('state')).toBe(request.state);

  // not ready, within the bound
  expect((await within(() => s.app.inject({ method: 'GET', url: '/readyz' }))).statusCode).toBe(503);
}

describe('PostgreSQL goes away and comes back', () => {
  it('stopped: 503 temporarily_unavailable everywhere it is needed, client_credentials keeps working, back within 5 s of its return', async () => {
    const issued = await tokenRequest({ grant_type: 'password', username: ALICE.username, password: ALICE.password, scope: 'openid offline_access', client_id: 'legacy', client_secret: SECRETS.legacy });
    expect(issued.statusCode).toBe(200);
    const tokens = issued.json<{ refresh_token: string; access_token: string }>();
    const session = await signedIn(s);
    expect((await s.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    // a request that holds a connection (in a transaction) when the database goes: the lost
    // connection fails that request, and does not end the process (an uncaught 'error' event)
    let begun!: () => void;
    let proceed!: () => void;
    const inTransaction = new Promise<void>((r) => (begun = r));
    const held = new Promise<void>((r) => (proceed = r));
    const transaction = db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      begun();
      await held;
      await sql`select 1`.execute(trx);
    });
    await inTransaction;

    cluster.stop();
    try {
      await new Promise((r) => setTimeout(r, 200)); // the connection hears of the shutdown
      proceed();
      await expect(transaction).rejects.toSatisfy(isDatabaseUnavailable);

      await expectEveryEndpointUnavailable(tokens, session, new Jar());

      // client_credentials needs no database: the client and the signing key come from the caches,
      // even once both are old enough to be reloaded (the reload fails in the background)
      expect((await clientCredentials()).statusCode).toBe(200);
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 });
      try {
        for (let i = 0; i < 3; i++) {
          const res = await clientCredentials();
          expect(res.statusCode).toBe(200);
          expect(res.json()).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer' });
        }
      } finally {
        vi.useRealTimers();
      }
    } finally {
      cluster.start();
    }

    // back with no restart, within 5 s; the refresh token that failed was not spent
    const back = Date.now();
    const took = await until(async () => (await s.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, back);
    expect(took).toBeLessThan(5_000);
    const res = await refresh(tokens.refresh_token);
    expect(res.statusCode).toBe(200);
    expect(Date.now() - back).toBeLessThan(5_000);
    expect((await s.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${res.json<{ access_token: string }>().access_token}` } })).statusCode).toBe(200);
  }, 120_000);

  it('frozen (nothing answers): the same 503 within the pool timeouts instead of a hang, and back within 5 s once it answers again', async () => {
    const issued = await tokenRequest({ grant_type: 'password', username: ALICE.username, password: ALICE.password, scope: 'openid offline_access', client_id: 'legacy', client_secret: SECRETS.legacy });
    expect(issued.statusCode).toBe(200);
    const tokens = issued.json<{ refresh_token: string; access_token: string }>();
    const session = await signedIn(s);

    cluster.freeze();
    try {
      await expectEveryEndpointUnavailable(tokens, session, new Jar());
      expect((await clientCredentials()).statusCode).toBe(200);
    } finally {
      cluster.thaw();
    }

    const back = Date.now();
    const took = await until(async () => (await refresh(tokens.refresh_token)).statusCode === 200, back);
    expect(took).toBeLessThan(5_000);
  }, 180_000);
});

/** A TCP proxy to the cluster whose open connections can be made to go silent (a lost host). */
async function silencingProxy(port: number) {
  const open = new Set<{ client: Socket; server: Socket; silent: boolean }>();
  const proxy = createServer((client) => {
    const pair = { client, server: connect(port, '127.0.0.1'), silent: false };
    open.add(pair);
    client.on('data', (d) => pair.silent || pair.server.write(d));
    pair.server.on('data', (d) => pair.silent || client.write(d));
    const end = () => {
      client.destroy();
      pair.server.destroy();
      open.delete(pair);
    };
    client.on('close', end).on('error', end);
    pair.server.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    silence: () => open.forEach((p) => (p.silent = true)),
    close: () => {
      open.forEach((p) => p.client.destroy());
      proxy.close();
    },
  };
}

describe('a connection that stops answering', () => {
  it('is dropped after the query timeout, not handed to the next request: new connections serve', async () => {
    const proxy = await silencingProxy(cluster.port);
    const pooled = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/outage`, poolSize: 2, timeouts: TIMEOUTS });
    try {
      // two open connections in the pool, then the path to them goes silent
      await Promise.all([1, 2].map(() => sql`select pg_sleep(0.2)`.execute(pooled)));
      proxy.silence();
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) outcomes.push(await sql`select 1`.execute(pooled).then(() => 'ok', (e: unknown) => (isDatabaseUnavailable(e) ? 'unavailable' : String(e))));
      // at most one failure per silent connection; after that, fresh connections answer
      expect(outcomes.filter((o) => o === 'unavailable').length).toBeLessThanOrEqual(2);
      expect(outcomes.slice(2)).toEqual(['ok', 'ok', 'ok']);
    } finally {
      proxy.close();
      await pooled.destroy();
    }
  }, 120_000);
});

describe('a server started while PostgreSQL is down', () => {
  it('logs one line per try, with backoff, and becomes ready once the database starts', async () => {
    cluster.stop();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(port),
        ISSUER: `http://127.0.0.1:${port}`,
        DATABASE_URL: cluster.url('startup'),
        CLIENTS_FILE: 'config/clients.json',
        USERS_FILE: 'config/users.json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let exit: number | null | undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exit = code))));
    const retries = () => stdout.split('\n').filter((l) => l.includes('database not reachable; retrying'));
    try {
      await until(async () => {
        if (exit !== undefined) throw new Error(`the server exited (${exit}): ${stderr}`);
        return retries().length >= 2;
      }, Date.now(), 60_000);
      const lines = retries().map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ level: 40, attempt: 1, retry_in_ms: 1000, error: expect.stringContaining('ECONNREFUSED') });
      expect(lines[1]).toMatchObject({ attempt: 2, retry_in_ms: 2000 });
      expect(stdout).not.toMatch(/"stack"|\\n\s+at /);
      expect(stdout).not.toContain('"msg":"ready"');

      cluster.start();
      await until(async () => {
        if (exit !== undefined) throw new Error(`the server exited (${exit}): ${stderr}`);
        return stdout.includes('"msg":"ready"');
      }, Date.now(), 90_000);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect(stderr).toBe('');
    } finally {
      if (exit === undefined) child.kill('SIGTERM');
      await exited;
    }
    expect(exit).toBe(0);
  }, 180_000);

  it('a database name that does not exist is a setting, not an outage: one line and exit 1 at once', async () => {
    if (!cluster.running) cluster.start();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', DATABASE_URL: cluster.url('no_such_database'), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toBe('error: database: database "no_such_database" does not exist\n');
    expect(stdout).not.toContain('retrying');
  }, 60_000);
});
