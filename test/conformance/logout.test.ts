// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at the end_session_endpoint from
// discovery, with URLs built by openid-client.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser, isCallback, parseForms, textOf, type Page } from './support/browser.js';
import { callbackInput } from './support/rp.js';

const BYE = 'http://127.0.0.1:8080/bye';
let s: TestServer;
let web: client.Configuration;
beforeAll(async () => {
  s = await startTestServer({ listen: true });
  web = await client.discovery(new URL(s.issuer), 'web', {}, client.ClientSecretBasic(SECRETS.web), { execute: [client.allowInsecureRequests] });
});
afterAll(async () => s?.close());

/** A browser signed in through the code flow, and the ID token the client got. */
async function signedIn(): Promise<{ browser: Browser; idToken: string }> {
  const browser = new Browser(s.issuer);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(web, { redirect_uri: REDIRECT, scope: 'openid', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const cb = await browser.authorize(url.href, { username: ALICE.username, password: ALICE.password });
  const tokens = await client.authorizationCodeGrant(web, callbackInput(cb), { pkceCodeVerifier: verifier, expectedState: state });
  return { browser, idToken: tokens.id_token! };
}

/** Whether the browser's session still answers prompt=none. */
async function stillSignedIn(browser: Browser): Promise<boolean> {
  const url = client.buildAuthorizationUrl(web, { redirect_uri: REDIRECT, scope: 'openid', prompt: 'none', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  const cb = await browser.authorize(url.href, { maxSteps: 0 });
  return cb.params.has('code');
}

function page(x: Awaited<ReturnType<Browser['get']>>): Page {
  if (isCallback(x)) throw new Error(`expected a page, was sent to ${x.url}`);
  return x;
}

describe('RP-initiated logout', () => {
  it('is advertised as end_session_endpoint', () => {
    expect(web.serverMetadata().end_session_endpoint).toBe(`${s.issuer}/logout`);
  });

  it('with a valid id_token_hint: ends the session and returns to the registered post_logout_redirect_uri with state', async () => {
    const { browser, idToken } = await signedIn();
    expect(await stillSignedIn(browser)).toBe(true);
    const url = client.buildEndSessionUrl(web, { id_token_hint: idToken, post_logout_redirect_uri: BYE, state: 'bye state/+?' });
    const res = await browser.get(url.href);
    expect(isCallback(res)).toBe(true);
    if (!isCallback(res)) return;
    expect(res.url.startsWith(`${BYE}?`)).toBe(true);
    expect(res.params.get('state')).toBe('bye state/+?');
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('works as POST with a form body too', async () => {
    const { browser, idToken } = await signedIn();
    const res = await browser.navigate(`${s.issuer}/logout`, { method: 'POST', body: new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: BYE }) });
    expect(isCallback(res) && res.url).toBe(BYE);
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('accepts an expired id_token_hint', async () => {
    const { browser } = await signedIn();
    const now = Math.floor(Date.now() / 1000);
    const expired = await s.ctx.keystore.sign({ iss: s.issuer, sub: ALICE.sub, aud: 'web', iat: now - 7200, exp: now - 3600, auth_time: now - 7200 }, { alg: 'RS256', typ: 'JWT' });
    const res = await browser.get(client.buildEndSessionUrl(web, { id_token_hint: expired, post_logout_redirect_uri: BYE }).href);
    expect(isCallback(res)).toBe(true);
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('shows a signed-out page, and does not redirect, when post_logout_redirect_uri is not registered', async () => {
    const { browser, idToken } = await signedIn();
    const res = page(await browser.get(client.buildEndSessionUrl(web, { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example.com/' }).href));
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('You are signed out');
    expect(res.html).not.toContain('evil.example.com');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('shows a signed-out page when no post_logout_redirect_uri is given', async () => {
    const { browser, idToken } = await signedIn();
    const res = page(await browser.get(client.buildEndSessionUrl(web, { id_token_hint: idToken }).href));
    expect(textOf(res.html)).toContain('You are signed out');
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('without id_token_hint: asks for confirmation (CSRF-protected form) before ending the session', async () => {
    const { browser } = await signedIn();
    const url = client.buildEndSessionUrl(web, { post_logout_redirect_uri: BYE, state: 's1' });
    expect(url.searchParams.get('client_id')).toBe('web');
    const confirm = page(await browser.get(url.href));
    expect(confirm.status).toBe(200);
    expect(confirm.headers.get('cache-control')).toBe('no-store');
    expect(textOf(confirm.html)).toContain('Sign out?');
    // nothing ended yet
    expect(await stillSignedIn(browser)).toBe(true);
    const [form] = parseForms(confirm.html, confirm.url);
    expect(form!.fields._csrf).toBeTruthy();
    const done = await browser.submit(form!, {}, form!.buttons[0]);
    expect(isCallback(done) && done.url).toBe(`${BYE}?state=s1`);
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('refuses the confirmation without its CSRF token, and the session stays', async () => {
    const { browser } = await signedIn();
    const confirm = page(await browser.get(client.buildEndSessionUrl(web, {}).href));
    const [form] = parseForms(confirm.html, confirm.url);
    const { _csrf: _ignored, ...fields } = form!.fields;
    const res = page(await browser.navigate(form!.action, { method: 'POST', body: new URLSearchParams(fields) }));
    expect(res.status).toBe(403);
    expect(await stillSignedIn(browser)).toBe(true);
  });

  it('asks for confirmation when id_token_hint names another user than the signed-in one', async () => {
    const { browser } = await signedIn();
    const other = await s.ctx.keystore.sign({ iss: s.issuer, sub: 'someone-else', aud: 'web', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 }, { alg: 'RS256', typ: 'JWT' });
    const res = page(await browser.get(client.buildEndSessionUrl(web, { id_token_hint: other, post_logout_redirect_uri: BYE }).href));
    expect(textOf(res.html)).toContain('Sign out?');
    expect(await stillSignedIn(browser)).toBe(true);
  });

  it('refuses an id_token_hint that is not ours (bad signature) with a page, and the session stays', async () => {
    const { browser, idToken } = await signedIn();
    const [h, p] = idToken.split('.');
    const res = page(await browser.get(client.buildEndSessionUrl(web, { id_token_hint: `${h}.${p}.${'A'.repeat(342)}`, post_logout_redirect_uri: BYE }).href));
    expect(res.status).toBe(400);
    expect(await stillSignedIn(browser)).toBe(true);
  });

  it('refuses an id_token_hint issued to another client than client_id', async () => {
    const { browser, idToken } = await signedIn();
    const res = page(await browser.get(`${s.issuer}/logout?${new URLSearchParams({ id_token_hint: idToken, client_id: 'spa' })}`));
    expect(res.status).toBe(400);
    expect(await stillSignedIn(browser)).toBe(true);
  });

  it('with no session: returns to a registered post_logout_redirect_uri at once', async () => {
    const res = await new Browser(s.issuer).get(client.buildEndSessionUrl(web, { post_logout_redirect_uri: BYE, state: 'x' }).href);
    expect(isCallback(res) && res.url).toBe(`${BYE}?state=x`);
  });
});
