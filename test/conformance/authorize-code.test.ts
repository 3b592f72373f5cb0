// The authorization endpoint as openid-client sees it in the code flow: the response carries
// iss (RFC 9207, which openid-client checks because discovery says so) and the exact state;
// prompt, max_age and refusals reach the client as authorization response errors.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser } from './support/browser.js';
import { callbackInput } from './support/rp.js';

let s: TestServer;
let web: client.Configuration;
beforeAll(async () => {
  s = await startTestServer({ listen: true });
  web = await client.discovery(new URL(s.issuer), 'web', {}, client.ClientSecretBasic(SECRETS.web), { execute: [client.allowInsecureRequests] });
});
afterAll(async () => s?.close());

const SIGN_IN = { username: ALICE.username, password: ALICE.password };

async function start(params: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = params.state ?? client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(web, {
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    ...params,
    state,
  });
  return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce } };
}

async function authorizationError(p: Promise<unknown>): Promise<client.AuthorizationResponseError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof client.AuthorizationResponseError) return e;
    throw e;
  }
  throw new Error('expected an authorization response error');
}

describe('code flow through the authorization endpoint', () => {
  it('gets a code openid-client accepts (iss checked) and redeems it, with a 150-character state returned exactly', async () => {
    let state = '';
    for (let c = 0x20; state.length < 150; c = c === 0x7e ? 0x20 : c + 1) state += String.fromCharCode(c);
    const browser = new Browser(s.issuer);
    const { url, checks } = await start({ state });
    const cb = await browser.authorize(url.href, SIGN_IN);
    expect(cb.params.get('state')).toBe(state);
    expect(cb.params.get('iss')).toBe(s.issuer);
    const tokens = await client.authorizationCodeGrant(web, callbackInput(cb), checks);
    expect(tokens.claims()!.sub).toBe(ALICE.sub);
  });

  it('prompt=none answers a signed-in, consented person without any page', async () => {
    const browser = new Browser(s.issuer);
    const first = await start();
    const t1 = await client.authorizationCodeGrant(web, callbackInput(await browser.authorize(first.url.href, SIGN_IN)), first.checks);
    const again = await start({ prompt: 'none' });
    // no credentials and no pages allowed: the first response must be the callback
    const cb = await browser.authorize(again.url.href, { maxSteps: 0 });
    const t2 = await client.authorizationCodeGrant(web, callbackInput(cb), again.checks);
    expect(t2.claims()!.auth_time).toBe(t1.claims()!.auth_time);
  });

  it('prompt=none without a session reaches the client as login_required', async () => {
    const { url, checks } = await start({ prompt: 'none' });
    const cb = await new Browser(s.issuer).authorize(url.href, { maxSteps: 0 });
    const e = await authorizationError(client.authorizationCodeGrant(web, callbackInput(cb), checks));
    expect(e.error).toBe('login_required');
  });

  it('prompt=login signs the person in again: the new ID token has a later auth_time', async () => {
    const browser = new Browser(s.issuer);
    const first = await start();
    const t1 = await client.authorizationCodeGrant(web, callbackInput(await browser.authorize(first.url.href, SIGN_IN)), first.checks);
    const again = await start({ prompt: 'login' });
    const before = browser.history.length;
    const t2 = await client.authorizationCodeGrant(web, callbackInput(await browser.authorize(again.url.href, SIGN_IN)), again.checks);
    expect(browser.history.slice(before).some((u) => new URL(u).pathname === '/login')).toBe(true);
    expect(t2.claims()!.auth_time!).toBeGreaterThan(t1.claims()!.auth_time!);
  });

  it('max_age: the ID token carries auth_time and openid-client accepts it', async () => {
    const { url, checks } = await start({ max_age: '300' });
    const cb = await new Browser(s.issuer).authorize(url.href, SIGN_IN);
    const tokens = await client.authorizationCodeGrant(web, callbackInput(cb), { ...checks, maxAge: 300 });
    expect(typeof tokens.claims()!.auth_time).toBe('number');
  });

  it('a denied consent reaches the client as access_denied', async () => {
    const { url, checks } = await start({ scope: 'openid phone' });
    const cb = await new Browser(s.issuer).authorize(url.href, { ...SIGN_IN, decision: 'deny' });
    const e = await authorizationError(client.authorizationCodeGrant(web, callbackInput(cb), checks));
    expect(e.error).toBe('access_denied');
  });
});
