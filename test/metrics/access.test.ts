// Who may read /metrics (issue 8, point 2): nobody unless configured; a bearer token on the public
// listener (METRICS_TOKEN); or a listener of its own (METRICS_PORT on METRICS_HOST).
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadEnv } from '../../src/config/env.js';
import { configRefusal } from '../config/refusal.js';
import { basic, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { METRICS_TOKEN, sample, scrape } from './support.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(env: Record<string, string>, opts: { listen?: boolean } = {}): Promise<TestServer> {
  const s = await startTestServer({ env, ...opts });
  servers.push(s);
  return s;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const metricsGet = (s: TestServer, authorization?: string) => s.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

describe('metrics off', () => {
  it('has no /metrics when neither METRICS_PORT nor METRICS_TOKEN is set', async () => {
    const s = await server({});
    const r = await metricsGet(s, `Bearer ${METRICS_TOKEN}`);
    expect(r.statusCode).toBe(404);
    expect(r.body).not.toContain('process_cpu');
    expect(s.app.metrics).toBeNull();
  });
});

describe('METRICS_TOKEN: /metrics on the public listener behind a bearer token', () => {
  it('answers 401 with a Bearer challenge without a token, with a wrong one, or with Basic credentials', async () => {
    const s = await server({ METRICS_TOKEN });
    for (const authorization of [undefined, `Bearer ${METRICS_TOKEN}x`, `Bearer ${METRICS_TOKEN.slice(0, -1)}`, 'Bearer wrong', basic('service', SECRETS.service), `Basic ${METRICS_TOKEN}`]) {
      const r = await metricsGet(s, authorization);
      expect(r.statusCode, String(authorization)).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer realm="metrics"/);
      expect(r.json().error).toBe('invalid_token');
      expect(r.json().error_description).toBeTruthy();
      expect(r.body).not.toContain('process_cpu');
    }
  });

  it('serves the Prometheus text format, not cached, with the right token', async () => {
    const s = await server({ METRICS_TOKEN });
    const r = await metricsGet(s, `Bearer ${METRICS_TOKEN}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toMatch(/^# TYPE oauth_tokens_issued_total counter$/m);
  });
});

describe('METRICS_PORT: a listener of its own', () => {
  it('serves /metrics on METRICS_HOST:METRICS_PORT, and the public listener has none', async () => {
    const port = await freePort();
    const s = await server({ METRICS_PORT: String(port) }, { listen: true });
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    expect(sample(text, 'oauth_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(0);
    expect((await fetch(`${s.issuer}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/token`)).status).toBe(404);
    // it counts what the public listener serves
    await fetch(`${s.issuer}/token`, { method: 'POST', headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(sample(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'oauth_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(1);
  });

  it('asks for METRICS_TOKEN there too when both are set', async () => {
    const port = await freePort();
    await server({ METRICS_PORT: String(port), METRICS_TOKEN });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
  });

  it('closes with the app', async () => {
    const port = await freePort();
    const s = await server({ METRICS_PORT: String(port) });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    await s.app.close();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('stops the start when the port is taken', async () => {
    const port = await freePort();
    const first = await server({ METRICS_PORT: String(port) });
    // a second app on the same settings (and database)
    const second = await buildApp(first.ctx, { logger: false });
    try {
      await expect(second.ready()).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await second.close().catch(() => undefined);
    }
  });
});

describe('a registry per app', () => {
  it('keeps the counts of two apps in one process apart', async () => {
    const a = await server({ METRICS_TOKEN });
    const b = await server({ METRICS_TOKEN });
    const issue = (s: TestServer) =>
      s.app.inject({ method: 'POST', url: '/token', headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' });
    await issue(a);
    await issue(a);
    await issue(b);
    expect(sample(await scrape(a), 'oauth_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(2);
    expect(sample(await scrape(b), 'oauth_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(1);
  });
});

describe('environment', () => {
  const refusal = (env: NodeJS.ProcessEnv) => configRefusal(() => loadEnv(env), 'the environment');
  const production = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', SECRET_KEY: 'k'.repeat(32) };

  it('leaves metrics off by default; METRICS_HOST is 127.0.0.1', () => {
    const env = loadEnv({});
    expect(env.METRICS_PORT).toBeUndefined();
    expect(env.METRICS_TOKEN).toBeUndefined();
    expect(env.METRICS_HOST).toBe('127.0.0.1');
    expect(loadEnv({ METRICS_PORT: '', METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
  });

  it('refuses a bad METRICS_PORT or one equal to PORT, naming it', () => {
    expect(refusal({ METRICS_PORT: 'abc' })).toBe('environment: METRICS_PORT: must be a port number from 1 to 65535');
    expect(refusal({ METRICS_PORT: '0' })).toBe('environment: METRICS_PORT: must be a port number from 1 to 65535');
    expect(refusal({ PORT: '9100', METRICS_PORT: '9100' })).toBe('environment: METRICS_PORT: must differ from PORT');
    expect(loadEnv({ METRICS_PORT: '9100' }).METRICS_PORT).toBe(9100);
  });

  it('refuses a METRICS_TOKEN that cannot be sent as a bearer token', () => {
    expect(refusal({ METRICS_TOKEN: 'has space' })).toMatch(/^environment: METRICS_TOKEN: must be letters, digits and -\._~\+\/ \(RFC 6750 §2\.1 b64token\)$/);
  });

  it('refuses a METRICS_TOKEN shorter than 32 characters in production', () => {
    expect(refusal({ ...production, METRICS_TOKEN: 'short-token' })).toBe('environment: METRICS_TOKEN must be at least 32 characters in production');
    expect(loadEnv({ ...production, METRICS_TOKEN }).METRICS_TOKEN).toBe(METRICS_TOKEN);
    expect(loadEnv({ METRICS_TOKEN: 'short-token' }).METRICS_TOKEN).toBe('short-token');
  });
});
