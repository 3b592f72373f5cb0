// The authorization endpoint as openid-client sees it in the code flow: the response carries
// iss (RFC 9207, which openid-client checks because discovery says so) and the exact state;
// prompt, max_age and refusals reach the client as authorization response errors.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { ALICE, defaultClients, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser, isCallback, textOf } from './support/browser.js';
import { callbackInput, codeFlow, relyingParty } from './support/rp.js';

let s: TestServer;
let web: client.Configuration;
beforeAll(async () => {
  // a native app (RFC 8252): public, a loopback redirect URI registered without a port
  const native = clientSchema.parse({ client_id: 'native', client_name: 'Native app', redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'none', scope: 'openid', skip_consent: true });
  s = await startTestServer({ listen: true, clients: [...defaultClients(), native] });
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

describe('refusals as openid-client sees them', () => {
  it('shows a page, and sends nothing to the client, for an unknown client or an unregistered redirect_uri', async () => {
    const { url } = await start();
    const unknown = new URL(url);
    unknown.searchParams.set('client_id', 'nobody');
    const elsewhere = new URL(url);
    elsewhere.searchParams.set('redirect_uri', 'https://evil.example.com/callback');
    for (const u of [unknown, elsewhere]) {
      const browser = new Browser(s.issuer);
      const at = await browser.get(u.href);
      expect(isCallback(at)).toBe(false);
      if (isCallback(at)) return;
      expect(at.status).toBe(400);
      expect(textOf(at.html)).toMatch(/not valid|Unknown application/);
      expect(browser.history.every((h) => new URL(h).origin === s.issuer)).toBe(true);
    }
  });

  // each error reaches the client at its redirect_uri with state and iss, which openid-client checks
  const cases: [string, Record<string, string>, string][] = [
    ['an unsupported response_type', { response_type: 'none' }, 'unsupported_response_type'],
    ['only scopes the client did not register', { scope: 'invoices:read' }, 'invalid_scope'],
    ['code_challenge_method plain (S256 only)', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no code_challenge (require_pkce)', { code_challenge: '', code_challenge_method: '' }, 'invalid_request'],
    ['an unsigned (alg none) request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'invalid_request_object'],
    ['a request_uri to fetch (only pushed ones are accepted)', { request_uri: 'https://app.example.com/request.jwt' }, 'request_uri_not_supported'],
    ['a malformed claims parameter', { claims: '{not json' }, 'invalid_request'],
  ];
  for (const [what, params, error] of cases) {
    it(`${what}: ${error}`, async () => {
      const { url, checks } = await start(params);
      const cb = await new Browser(s.issuer).authorize(url.href, { maxSteps: 0 });
      expect(cb.url.startsWith(`${REDIRECT}?`)).toBe(true);
      const e = await authorizationError(client.authorizationCodeGrant(web, callbackInput(cb), checks));
      expect(e.error).toBe(error);
      expect(e.error_description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
    });
  }

  it('prompt=none for scopes not yet granted reaches the client as consent_required', async () => {
    const browser = new Browser(s.issuer);
    const first = await start();
    await client.authorizationCodeGrant(web, callbackInput(await browser.authorize(first.url.href, SIGN_IN)), first.checks);
    const { url, checks } = await start({ prompt: 'none', scope: 'openid phone' });
    const e = await authorizationError(client.authorizationCodeGrant(web, callbackInput(await browser.authorize(url.href, { maxSteps: 0 })), checks));
    expect(e.error).toBe('consent_required');
  });
});

describe('native apps (RFC 8252)', () => {
  it('accepts a loopback redirect URI on any port (7.3) and redeems the code there', async () => {
    const rp = await relyingParty(s.issuer, 'native');
    const { tokens, callback } = await codeFlow(rp, new Browser(s.issuer), { redirect_uri: 'http://127.0.0.1:54321/callback', scope: 'openid' });
    expect(new URL(callback.url).port).toBe('54321');
    expect(tokens.claims()!.sub).toBe(ALICE.sub);
  });
});
