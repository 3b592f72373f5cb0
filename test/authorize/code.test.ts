// response_type=code: the grant and the code row the token endpoint redeems, and the response
// modes that deliver it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { ALICE, defaultClients, REDIRECT, startTestServer, type TestServer } from '../support/harness.js';
import { authorizeUrl, codeRequest, get, parseForms, pkce, redirectParams, signedIn } from './support.js';

let s: TestServer;
const FIRST_PARTY = clientSchema.parse({
  client_id: 'first-party',
  client_secret: 'first-party-secret-0123456789-0123456789',
  client_name: 'First party app',
  redirect_uris: ['https://first.example.com/cb'],
  grant_types: ['authorization_code'],
  scope: 'openid profile',
  require_pkce: false,
  skip_consent: true,
});

const NATIVE = clientSchema.parse({
  client_id: 'native',
  client_name: 'Native app',
  redirect_uris: ['com.example.app:/oauth'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'none',
  scope: 'openid',
  skip_consent: true,
});

beforeAll(async () => {
  // a code lifetime other than the default, to see that AUTHORIZATION_CODE_TTL is what counts
  s = await startTestServer({ clients: [...defaultClients(), FIRST_PARTY, NATIVE], env: { AUTHORIZATION_CODE_TTL: '45' } });
  await s.ctx.repos.consents.grant(ALICE.sub, 'web', ['openid', 'profile', 'email', 'offline_access']);
  await s.ctx.repos.consents.grant(ALICE.sub, 'spa', ['openid', 'profile', 'email', 'offline_access']);
});
afterAll(async () => s?.close());

describe('issuing a code', () => {
  it('redirects with code, state and iss, and stores the code with everything /token needs', async () => {
    const authTime = new Date(Date.now() - 5_000);
    const jar = await signedIn(s, { authTime });
    const { challenge } = pkce();
    const claims = { userinfo: { phone_number: null }, id_token: { email: { essential: true } } };
    const req = codeRequest({ code_challenge: challenge, max_age: '3600', claims: JSON.stringify(claims), scope: 'openid email offline_access' });
    const res = await get(s, jar, authorizeUrl(req));
    expect(res.statusCode).toBe(303);
    expect(res.headers['cache-control']).toBe('no-store');
    const r = redirectParams(res);
    expect(r.in).toBe('query');
    expect(r.url.origin + r.url.pathname).toBe(REDIRECT);
    expect(r.params.get('state')).toBe(req.state);
    expect(r.params.get('iss')).toBe(s.issuer);
    const code = r.params.get('code')!;
    // 256 random bits, base64url
    expect(code).toMatch(/^[\w-]{43}$/);

    const spent = await s.ctx.repos.grants.consumeCode(code);
    expect(spent.outcome).toBe('ok');
    if (spent.outcome !== 'ok') return;
    expect(spent.row).toMatchObject({
      client_id: 'web',
      sub: ALICE.sub,
      redirect_uri: REDIRECT,
      scope: 'openid email offline_access',
      nonce: req.nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      include_auth_time: true,
      claims,
    });
    expect(spent.row.auth_time.getTime()).toBe(authTime.getTime());
    const lifetime = spent.row.expires_at.getTime() - Date.now();
    expect(lifetime).toBeLessThanOrEqual(45_000);
    expect(lifetime).toBeGreaterThan(40_000);
    expect(spent.row.session_id_hash).toBeTruthy();
    // the grant id travels in access tokens: 256 random bits too
    expect(spent.row.grant_id).toMatch(/^[\w-]{43}$/);

    const grant = await s.ctx.repos.grants.findGrant(spent.row.grant_id);
    expect(grant).toMatchObject({ client_id: 'web', sub: ALICE.sub, scope: 'openid email offline_access', claims, revoked_at: null });
    const ttl = (s.ctx.env.REFRESH_TOKEN_TTL + s.ctx.env.ACCESS_TOKEN_TTL) * 1000;
    expect(Math.abs(grant!.expires_at.getTime() - (Date.now() + ttl))).toBeLessThan(60_000);
  });

  it('does not set include_auth_time when max_age was not sent', async () => {
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(codeRequest())));
    const spent = await s.ctx.repos.grants.consumeCode(r.params.get('code')!);
    expect(spent.outcome === 'ok' && spent.row.include_auth_time).toBe(false);
  });

  it('drops scopes the client did not register and keeps the rest', async () => {
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(codeRequest({ scope: 'openid invoices:read email admin' }))));
    const spent = await s.ctx.repos.grants.consumeCode(r.params.get('code')!);
    expect(spent.outcome === 'ok' && spent.row.scope).toBe('openid email');
  });

  it('serves a plain OAuth request without openid', async () => {
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(codeRequest({ scope: 'profile', nonce: undefined }))));
    const spent = await s.ctx.repos.grants.consumeCode(r.params.get('code')!);
    expect(spent.outcome === 'ok' && spent.row.scope).toBe('profile');
  });

  it('stores the only registered redirect URI when the request omitted it (plain OAuth)', async () => {
    const res = await get(s, await signedIn(s), authorizeUrl(codeRequest({ client_id: 'spa', redirect_uri: undefined, scope: 'profile' })));
    const r = redirectParams(res);
    expect(r.url.origin + r.url.pathname).toBe('http://localhost:5173/cb');
    const spent = await s.ctx.repos.grants.consumeCode(r.params.get('code')!);
    expect(spent.outcome === 'ok' && spent.row.redirect_uri).toBe('http://localhost:5173/cb');
  });

  it('stores the redirect URI exactly as sent, also a loopback one on another port', async () => {
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(codeRequest({ redirect_uri: 'http://127.0.0.1:40001/callback' }))));
    const spent = await s.ctx.repos.grants.consumeCode(r.params.get('code')!);
    expect(spent.outcome === 'ok' && spent.row.redirect_uri).toBe('http://127.0.0.1:40001/callback');
  });

  it('issues a code without a challenge to a confidential client with require_pkce false, and stores none', async () => {
    const req = codeRequest({ client_id: 'first-party', redirect_uri: 'https://first.example.com/cb', scope: 'openid profile', code_challenge: undefined, code_challenge_method: undefined });
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(req)));
    const spent = await s.ctx.repos.grants.consumeCode(r.params.get('code')!);
    expect(spent.outcome === 'ok' && spent.row.code_challenge).toBeNull();
  });

  it('answers a POST authorization request like a GET one', async () => {
    const jar = await signedIn(s);
    const req = codeRequest();
    const res = await s.app.inject({ method: 'POST', url: '/authorize', headers: { ...jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(req).toString() });
    const r = redirectParams(res);
    expect(r.params.get('code')).toBeTruthy();
    expect(r.params.get('state')).toBe(req.state);
  });

  it('delivers the code in the fragment with response_mode=fragment', async () => {
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(codeRequest({ response_mode: 'fragment' }))));
    expect(r.in).toBe('fragment');
    expect(r.params.get('code')).toBeTruthy();
    expect(r.params.get('iss')).toBe(s.issuer);
  });
});

describe('response_mode=form_post (OAuth 2.0 Form Post Response Mode)', () => {
  it('renders an auto-submitting form to the redirect URI that also works without JavaScript, never cached', async () => {
    const req = codeRequest({ response_mode: 'form_post' });
    const res = await get(s, await signedIn(s), authorizeUrl(req));
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain('form-action http://127.0.0.1:8080');
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(res.body).toContain(`<script nonce="${nonce}">`);
    expect(res.body).toMatch(/<noscript>[\s\S]*<button type="submit">[\s\S]*<\/noscript>/);
    const [form] = parseForms(res.body, s.issuer);
    expect(form!.action).toBe(REDIRECT);
    expect(form!.method).toBe('POST');
    expect(form!.fields.state).toBe(req.state);
    expect(form!.fields.iss).toBe(s.issuer);
    expect(form!.fields.code).toMatch(/^[\w-]{43}$/);
  });

  it('allows the form to post to a custom-scheme redirect URI (RFC 8252 7.1), which has no origin', async () => {
    const req = codeRequest({ client_id: 'native', redirect_uri: 'com.example.app:/oauth', scope: 'openid', response_mode: 'form_post' });
    const res = await get(s, await signedIn(s), authorizeUrl(req));
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-security-policy'])).toContain('form-action com.example.app:;');
    expect(parseForms(res.body, s.issuer)[0]!.action).toBe('com.example.app:/oauth');
  });
});
