// The playground's own endpoints refuse bad input with a page or the standard's error, never a
// 500; a forged authorization response (wrong state) is not redeemed; the run record is
// encrypted and a tampered one is no run at all; pages that show tokens are not cached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/clients.js';
import { COOKIE } from '../../src/playground/run-record.js';
import { get, Jar, post } from '../authorize/support.js';
import { startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ clients: (issuer) => loadRegistry('config/clients.json', { production: false, env: { ISSUER: issuer } }) });
});
afterAll(async () => s?.close());

/** A jar with the CSRF cookie, and the token the page's forms carry. */
async function page(flow: string): Promise<{ jar: Jar; csrf: string }> {
  const jar = new Jar();
  const res = await get(s, jar, `/playground/${flow}`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? /data-csrf="([^"]+)"/.exec(res.body)?.[1];
  return { jar, csrf: csrf! };
}

describe('playground requests', () => {
  it('refuses a start without the CSRF token (403 page, no run started)', async () => {
    const jar = new Jar();
    const res = await post(s, jar, '/playground/client-credentials/start', {});
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect([...jar.cookies.keys()].some((k) => k.startsWith(COOKIE))).toBe(false);
  });

  it('does not redeem a code whose state is not the one the run sent (RFC 6749 §10.12)', async () => {
    const { jar, csrf } = await page('web');
    const start = await post(s, jar, '/playground/web/start', { _csrf: csrf });
    expect(start.statusCode).toBe(303);
    const callback = await get(s, jar, `/playground/callback/web?code=some-code&state=forged&iss=${encodeURIComponent(s.issuer)}`);
    expect(callback.statusCode).toBe(303);
    const run = await get(s, jar, '/playground/web');
    expect(run.headers['cache-control']).toContain('no-store');
    expect(run.body).toContain('The state does not match the one the app sent');
    expect(run.body).not.toContain('Token request (authorization code)');
  });

  it('answers a callback with no run waiting with a page, not a 500', async () => {
    const res = await get(s, new Jar(), `/playground/callback/web?code=x&state=y&iss=${encodeURIComponent(s.issuer)}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('No run is waiting for this response');
  });

  it('keeps the run encrypted: the token is not readable in the cookie, and a tampered cookie is no run', async () => {
    const { jar, csrf } = await page('client-credentials');
    await post(s, jar, '/playground/client-credentials/start', { _csrf: csrf });
    const shown = await get(s, jar, '/playground/client-credentials');
    expect(shown.body).toContain('Token request (client credentials)');
    const cookie = jar.cookies.get(`${COOKIE}_0`)!;
    expect(cookie.split('.')).toHaveLength(5); // compact JWE
    expect(cookie).not.toContain('eyJ0eXAiOiJhdCtqd3Qi'); // no JWT inside in the clear
    jar.cookies.set(`${COOKIE}_0`, cookie.slice(0, -4) + (cookie.endsWith('AAAA') ? 'BBBB' : 'AAAA'));
    const tampered = await get(s, jar, '/playground/client-credentials');
    expect(tampered.statusCode).toBe(200);
    expect(tampered.body).not.toContain('Token request (client credentials)');
  });

  it('refuses a malformed SPA record with invalid_request', async () => {
    const { jar, csrf } = await page('spa');
    const res = await s.app.inject({ method: 'POST', url: '/playground/spa/record', headers: { ...jar.header(), 'content-type': 'application/json', 'csrf-token': csrf }, payload: { authorize_url: 'nope' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers a follow-up step without a run, or an unknown one, with a page', async () => {
    const { jar, csrf } = await page('web');
    const refresh = await post(s, jar, '/playground/run/refresh', { _csrf: csrf });
    expect(refresh.statusCode).toBe(400);
    expect(refresh.body).toContain('No run to continue');
  });

  it('serves the SPA page with a CSP that allows its own script only', async () => {
    const res = await get(s, new Jar(), '/playground/spa');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.body).not.toMatch(/<script>|<script [^>]*>[^<]/);
    const script = /src="(\/playground\/assets\/spa\.js\?v=[0-9a-f]+)"/.exec(res.body)![1]!;
    const js = await s.app.inject({ method: 'GET', url: script });
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['cache-control']).toContain('immutable');
  });
});
