// CORS: single-page apps (public clients) call /token and /userinfo from the browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const SPA_ORIGIN = 'http://localhost:5173'; // origin of the spa client's redirect URI

describe('CORS', () => {
  it('answers a preflight for /token from a registered client origin', async () => {
    const r = await s.app.inject({
      method: 'OPTIONS',
      url: '/token',
      headers: { origin: SPA_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(r.statusCode).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    expect(String(r.headers['access-control-allow-methods'])).toContain('POST');
  });

  it('gives no CORS headers to an origin that is not a registered client origin', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/token', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets any origin read discovery and the JWKS', async () => {
    for (const url of ['/.well-known/openid-configuration', '/jwks']) {
      const r = await s.app.inject({ method: 'GET', url, headers: { origin: 'https://anywhere.example' } });
      expect(r.headers['access-control-allow-origin']).toBe('*');
    }
  });

  it('never adds CORS headers to pages', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/login?return_to=/', headers: { origin: SPA_ORIGIN } });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS details', () => {
  it('exposes a registered origin on the actual request, with Vary: Origin', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/token', headers: { origin: SPA_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=authorization_code&client_id=spa&code=x&code_verifier=y&redirect_uri=z' });
    expect(r.statusCode).toBe(400); // the code is bad; the browser may still read why
    expect(r.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    expect(String(r.headers['vary'])).toMatch(/Origin/);
  });

  it('refuses a preflight from an origin that is not a registered client origin', async () => {
    const r = await s.app.inject({ method: 'OPTIONS', url: '/token', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(r.statusCode).toBe(404);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('answers a preflight for the JWKS from any origin, GET only', async () => {
    const r = await s.app.inject({ method: 'OPTIONS', url: '/jwks', headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'GET' } });
    expect(r.statusCode).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-allow-methods']).toBe('GET');
  });

  it('adds nothing to a server-to-server call, which sends no Origin', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['vary']).toBeUndefined();
  });
});
