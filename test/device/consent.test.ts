// The /device page for a signed-in person (RFC 8628 §3.3): consent naming the client and its
// scopes, then the done page (approve) or the denied page, and what the device gets then.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startTestServer, type TestServer } from '../support/harness.js';
import { formOf, lastPolledAgo, PageClient, poll, rowOf, startDevice, textOf } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

let nextIp = 10;
/** A browser at its own address (so rate limits of one test do not touch another) that has signed in. */
async function signedIn(): Promise<PageClient> {
  const b = new PageClient(s, `198.51.100.${nextIp++}`);
  const r = await b.signIn();
  if (r.statusCode >= 400) throw new Error(`sign-in failed with ${r.statusCode}: ${textOf(r.body).slice(0, 200)}`);
  return b;
}

/** The consent page of a request, reached by typing the code as the person would. */
async function consentPage(b: PageClient, user_code: string) {
  const entry = await b.get('/device');
  const r = await b.submit(entry.body, { user_code });
  expect(r.statusCode).toBe(200);
  return r;
}

const press = (b: PageClient, html: string, decision: 'allow' | 'deny') => b.submit(html, { decision });

describe('consent', () => {
  it("shows the client's name and each requested scope in words, with allow and deny buttons, the code and a CSRF field", async () => {
    const d = await startDevice(s, { scope: 'openid profile offline_access' });
    const b = await signedIn();
    const r = await consentPage(b, d.user_code);
    expect(r.headers['cache-control']).toBe('no-store');
    const text = textOf(r.body);
    expect(text).toContain('Test TV');
    for (const scope of ['Confirm who you are', 'See your basic profile', 'Stay signed in']) expect(text).toContain(scope);
    expect(r.body).toMatch(/name="decision"\s+value="allow"/);
    expect(r.body).toMatch(/name="decision"\s+value="deny"/);
    const form = formOf(r.body);
    expect(form.action).toBe('/device');
    expect(form.fields).toMatchObject({ _csrf: expect.any(String), user_code: d.user_code });
  });

  it('goes straight to consent when a signed-in person opens verification_uri_complete', async () => {
    const d = await startDevice(s);
    const b = await signedIn();
    const r = await b.get(`/device?user_code=${d.user_code}`);
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatch(/name="decision"\s+value="allow"/);
    expect(textOf(r.body)).toContain('Test TV');
  });

  it('a signed-in person opening a link with a wrong or expired code sees the entry page with the message', async () => {
    const b = await signedIn();
    const r = await b.get('/device?user_code=BCDF-GHJK');
    expect(r.statusCode).toBe(400);
    expect(textOf(r.body)).toContain('That code is not valid');
    expect(formOf(r.body).fields.user_code).toBe('BCDF-GHJK');
    expect(r.body).not.toMatch(/name="decision"/);
  });

  it('brings a person who signs in on the way back to the consent of the code they typed', async () => {
    const d = await startDevice(s);
    const b = new PageClient(s, `198.51.100.${nextIp++}`);
    const toLogin = await b.submit((await b.get('/device')).body, { user_code: d.user_code });
    expect(toLogin.statusCode).toBe(303);
    const returnTo = new URL(toLogin.headers.location as string, s.issuer).searchParams.get('return_to')!;
    const login = await b.signIn(undefined, undefined, returnTo);
    expect(login.statusCode).toBeGreaterThanOrEqual(300);
    expect(login.statusCode).toBeLessThan(400);
    expect(new URL(login.headers.location as string, s.issuer).href).toBe(new URL(returnTo, s.issuer).href);
    const back = await b.get(returnTo);
    expect(back.body).toMatch(/name="decision"\s+value="allow"/);
  });
});

describe('the decision', () => {
  it('allow: the done page tells the person to return to their device, and the device gets tokens for that person', async () => {
    const d = await startDevice(s);
    const b = await signedIn();
    const consent = await consentPage(b, d.user_code);
    const done = await press(b, consent.body, 'allow');
    expect(done.statusCode).toBe(200);
    expect(done.headers['cache-control']).toBe('no-store');
    expect(textOf(done.body)).toContain('You can return to your device');
    const row = await rowOf(s.ctx, d.device_code);
    expect(row).toMatchObject({ status: 'approved', sub: ALICE.sub, granted_scope: 'openid profile offline_access' });

    const t = await poll(s, d.device_code);
    expect(t.statusCode).toBe(200);
    expect(t.json().id_token).toEqual(expect.any(String));
  });

  it('deny: the denied page, and the device is told access_denied', async () => {
    const d = await startDevice(s);
    const b = await signedIn();
    const consent = await consentPage(b, d.user_code);
    const denied = await press(b, consent.body, 'deny');
    expect(denied.statusCode).toBe(200);
    expect(textOf(denied.body)).toContain('was not allowed to use your account');
    expect((await rowOf(s.ctx, d.device_code)).status).toBe('denied');
    const t = await poll(s, d.device_code);
    expect(t.json().error).toBe('access_denied');
  });

  it('a code is decided once: pressing allow again, or denying after allowing, is refused with a message', async () => {
    const d = await startDevice(s);
    const b = await signedIn();
    const consent = await consentPage(b, d.user_code);
    await press(b, consent.body, 'allow');
    const again = await press(b, consent.body, 'deny');
    expect(again.statusCode).toBe(400);
    expect(textOf(again.body)).toContain('That code is not valid');
    expect((await rowOf(s.ctx, d.device_code)).status).toBe('approved');
  });

  it('a decision needs a signed-in person: without the session it goes to the login page and decides nothing', async () => {
    const d = await startDevice(s);
    const b = await signedIn();
    const consent = await consentPage(b, d.user_code);
    for (const name of [...b.jar.keys()]) if (/session/.test(name)) b.jar.delete(name);
    const r = await press(b, consent.body, 'allow');
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toMatch(/^\/login\?return_to=/);
    expect((await rowOf(s.ctx, d.device_code)).status).toBe('pending');
  });

  it('a decision needs the CSRF field', async () => {
    const d = await startDevice(s);
    const b = await signedIn();
    const consent = await consentPage(b, d.user_code);
    const { _csrf: _dropped, ...fields } = formOf(consent.body).fields;
    const r = await b.post('/device', { ...fields, decision: 'allow' });
    expect(r.statusCode).toBe(403);
    expect((await rowOf(s.ctx, d.device_code)).status).toBe('pending');
  });

  it('the device polling while the person decides sees authorization_pending, then tokens', async () => {
    const d = await startDevice(s);
    expect((await poll(s, d.device_code)).json().error).toBe('authorization_pending');
    const b = await signedIn();
    await press(b, (await consentPage(b, d.user_code)).body, 'allow');
    await lastPolledAgo(s.ctx, d.device_code, 6);
    expect((await poll(s, d.device_code)).statusCode).toBe(200);
  });
});
