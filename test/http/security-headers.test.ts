// Security headers on every answer: the page set (CSP with frame-ancestors 'none', framing and
// sniffing refused, no referrer) on pages and JSON alike, and on /token the JSON subset; HSTS
// only when the issuer is https.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, SECRETS, startTestServer, type TestServer } from '../support/harness.js';

const tokenRequest = (s: TestServer) =>
  s.app.inject({
    method: 'POST',
    url: '/token',
    headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials',
  });

function expectPageHeaders(h: Record<string, unknown>) {
  const csp = String(h['content-security-policy']);
  for (const d of ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "style-src 'self'"]) expect(csp).toContain(d);
  expect(h['x-frame-options']).toBe('SAMEORIGIN');
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['cross-origin-opener-policy']).toBe('same-origin');
  expect(h['x-powered-by']).toBeUndefined();
}

describe('on an http issuer (development)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it.each(['/login', '/device', '/logout', '/.well-known/openid-configuration', '/no-such-page'])('%s carries the page set and no HSTS', async (url) => {
    const r = await s.app.inject(url);
    expect(r.statusCode).toBeLessThan(500);
    expectPageHeaders(r.headers);
    expect(r.headers['strict-transport-security']).toBeUndefined();
  });

  // the headers are set before the body is read, so a refused body still gets them
  it.each([
    ['/no-such-page', 'page'],
    ['/login', 'page'],
    ['/token', 'api'],
  ])('POST %s with a body it cannot read still carries the %s set', async (url, set) => {
    const r = await s.app.inject({ method: 'POST', url, headers: { 'content-type': 'text/xml' }, payload: '<x/>' });
    expect(r.statusCode).toBeGreaterThanOrEqual(400);
    expect(r.statusCode).toBeLessThan(500);
    if (set === 'page') expectPageHeaders(r.headers);
    else {
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['content-security-policy']).toBeUndefined();
    }
  });

  it('/token carries nosniff and no-store, not the page set', async () => {
    const r = await tokenRequest(s);
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['content-security-policy']).toBeUndefined();
    expect(r.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('on an https issuer', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { ISSUER: 'https://id.example.com' } });
  });
  afterAll(async () => s?.close());

  it('pages and /token carry HSTS', async () => {
    const page = await s.app.inject('/login');
    expectPageHeaders(page.headers);
    expect(page.headers['strict-transport-security']).toMatch(/^max-age=\d{7,}; includeSubDomains$/);
    expect((await tokenRequest(s)).headers['strict-transport-security']).toBe(page.headers['strict-transport-security']);
  });
});
