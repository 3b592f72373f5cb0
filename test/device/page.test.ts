// The /device page (RFC 8628 §3.3): entering a user_code, wrong and expired codes, rate limits,
// and the way to the login page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_CHECKS_OVERALL, CODE_CHECKS_PER_ADDRESS } from '../../src/routes/device.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { expire, formOf, PageClient, startDevice, textOf } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

let nextIp = 10;
const browser = () => new PageClient(s, `198.51.100.${nextIp++}`);

describe('GET /device', () => {
  it('shows a labelled user_code field and a CSRF field, not cached, not framable', async () => {
    const r = await browser().get('/device');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const form = formOf(r.body);
    expect(form.action).toBe('/device');
    expect(form.fields).toEqual({ _csrf: expect.stringMatching(/.{10,}/), user_code: '' });
    expect(r.body).toMatch(/<label for="user_code">/);
    expect(r.body).toMatch(/<input id="user_code" name="user_code"/);
  });

  it('prefills the field from ?user_code= (verification_uri_complete, §3.3.1)', async () => {
    const d = await startDevice(s);
    const r = await browser().get(d.verification_uri_complete.replace(s.issuer, ''));
    expect(r.statusCode).toBe(200);
    expect(formOf(r.body).fields.user_code).toBe(d.user_code);
    // §3.3.1: the person confirms the prefilled code matches their device before going on
    expect(textOf(r.body)).toContain('Check that this is the code your TV or device shows');
  });

  it('shows what was typed in the normal form, and escapes anything else', async () => {
    expect(formOf((await browser().get('/device?user_code=bcdfghjk')).body).fields.user_code).toBe('BCDF-GHJK');
    const r = await browser().get(`/device?user_code=${encodeURIComponent('"><script>x</script>')}`);
    expect(r.body).not.toContain('<script>x');
    expect(formOf(r.body).fields.user_code).toBe('"><script>x</script>');
  });
});

describe('POST /device with a code', () => {
  it('refuses a post without the CSRF field with a readable page', async () => {
    const b = browser();
    await b.get('/device');
    const r = await b.post('/device', { user_code: 'BCDF-GHJK' });
    expect(r.statusCode).toBe(403);
    expect(r.headers['content-type']).toContain('text/html');
    expect(textOf(r.body)).toContain('This form has expired');
  });

  it('sends a person who is not signed in to the login page, which brings them back with the code', async () => {
    const d = await startDevice(s);
    const b = browser();
    const page = await b.get('/device');
    // typed in lower case without the dash: still the same code
    const r = await b.submit(page.body, { user_code: d.user_code.toLowerCase().replace('-', '') });
    expect(r.statusCode).toBe(303);
    const location = new URL(r.headers.location as string, s.issuer);
    expect(location.pathname).toBe('/login');
    expect(location.searchParams.get('return_to')).toBe(`/device?user_code=${d.user_code}`);
  });

  it('answers a wrong code with the same page, a clear message and status 400', async () => {
    const b = browser();
    const page = await b.get('/device');
    const r = await b.submit(page.body, { user_code: 'BCDF-GHJK' });
    expect(r.statusCode).toBe(400);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(textOf(r.body)).toContain('That code is not valid');
    expect(r.body).toContain('role="alert"');
    // the form is there again, with what was typed, ready for another try
    expect(formOf(r.body).fields).toMatchObject({ user_code: 'BCDF-GHJK', _csrf: expect.any(String) });
  });

  it('answers an expired code like a wrong one', async () => {
    const d = await startDevice(s);
    await expire(s.ctx, d.device_code);
    const b = browser();
    const r = await b.submit((await b.get('/device')).body, { user_code: d.user_code });
    expect(r.statusCode).toBe(400);
    expect(textOf(r.body)).toContain('may have expired');
  });

  it('answers a malformed or empty code with a message, never a server error', async () => {
    const b = browser();
    for (const user_code of ['ABC', 'x'.repeat(64), '']) {
      const r = await b.submit((await b.get('/device')).body, { user_code });
      expect(r.statusCode).toBe(400);
      expect(r.body).toContain('role="alert"');
    }
    const long = await b.submit((await b.get('/device')).body, { user_code: 'B'.repeat(5000) });
    expect(long.statusCode).toBe(400);
  });

  it(`allows ${CODE_CHECKS_PER_ADDRESS} code checks a minute per address, then says to wait (§5.1)`, async () => {
    const b = browser();
    const page = await b.get('/device');
    for (let i = 0; i < CODE_CHECKS_PER_ADDRESS; i++) expect((await b.submit(page.body, { user_code: 'BCDF-GHJK' })).statusCode).toBe(400);
    const d = await startDevice(s);
    const limited = await b.submit(page.body, { user_code: d.user_code });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited.headers['cache-control']).toBe('no-store');
    expect(textOf(limited.body)).toContain('Too many codes were tried');
    // another address is not affected
    const other = browser();
    const ok = await other.submit((await other.get('/device')).body, { user_code: d.user_code });
    expect(ok.statusCode).toBe(303);
  });

  it(`allows ${CODE_CHECKS_OVERALL} code checks a minute from all addresses together (§5.1)`, async () => {
    // a fresh server, so the other tests' checks do not count
    const t = await startTestServer();
    try {
      let ip = 0;
      let checks = 0;
      while (checks < CODE_CHECKS_OVERALL) {
        const b = new PageClient(t, `192.0.2.${ip++}`);
        const page = await b.get('/device');
        for (let i = 0; i < CODE_CHECKS_PER_ADDRESS && checks < CODE_CHECKS_OVERALL; i++, checks++)
          expect((await b.submit(page.body, { user_code: 'BCD' })).statusCode).toBe(400);
      }
      const fresh = new PageClient(t, '192.0.2.250');
      const r = await fresh.submit((await fresh.get('/device')).body, { user_code: 'BCDF-GHJK' });
      expect(r.statusCode).toBe(429);
      expect(textOf(r.body)).toContain('Too many codes were tried');
    } finally {
      await t.close();
    }
  });
});
