// The implicit response types of OpenID Connect (OIDC Core §3.2), driven by openid-client (for
// response_type=id_token, which it supports) and checked with jose for "id_token token".
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { ALICE, defaultClients, defaultUsers, startTestServer, type TestServer } from '../support/harness.js';
import { Browser, type Callback } from './support/browser.js';
import { relyingParty } from './support/rp.js';

const REDIRECT = 'https://implicit.example.com/cb';
let s: TestServer;
let browser: Browser;
let rp: client.Configuration;

const OFFLINE_IMPLICIT = clientSchema.parse({
  client_id: 'implicit-offline',
  client_name: 'Implicit app that registered offline_access',
  redirect_uris: ['https://implicit-offline.example.com/cb'],
  grant_types: ['implicit'],
  response_types: ['id_token token'],
  token_endpoint_auth_method: 'none',
  scope: 'openid profile offline_access',
  skip_consent: true,
});

beforeAll(async () => {
  // alice also has a claim of the operator's own, outside OIDC Core §5.1
  const users = defaultUsers().map((u) => ({ ...u, claims: { ...u.claims, employee_id: 'E-1001' } }));
  s = await startTestServer({ listen: true, clients: [...defaultClients(), OFFLINE_IMPLICIT], users });
  rp = await relyingParty(s.issuer, 'implicit');
  client.useIdTokenResponseType(rp);
  browser = new Browser(s.issuer);
});
afterAll(async () => s?.close());

/** The callback as the URL openid-client reads the response from (form_post fields go in the fragment). */
function asUrl(cb: Callback): URL {
  const u = new URL(cb.url);
  if (cb.via === 'form_post') u.hash = cb.params.toString();
  return u;
}

async function verified(idToken: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!));
  return (await jwtVerify(idToken, jwks, { issuer: s.issuer, audience, typ: 'JWT' })).payload;
}

describe('response_type=id_token', () => {
  it('returns an ID token in the fragment with nonce, auth_time and the claims of the granted scopes', async () => {
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: 'openid profile email', nonce, state });
    expect(url.searchParams.get('response_type')).toBe('id_token');
    const cb = await browser.authorize(url.href, { username: ALICE.username, password: ALICE.password });
    expect(cb.via).toBe('redirect');
    expect(new URL(cb.url).search).toBe('');
    expect(cb.params.get('iss')).toBe(s.issuer);
    expect(cb.params.get('access_token')).toBeNull();
    // openid-client checks signature, iss, aud, exp, iat, nonce and state
    const claims = await client.implicitAuthentication(rp, asUrl(cb), nonce, { expectedState: state });
    expect(claims).toMatchObject({ sub: ALICE.sub, nonce, name: 'Alice Example', email: 'alice@example.com', email_verified: true });
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.at_hash).toBeUndefined();
    expect(claims.phone_number).toBeUndefined();
  });

  it('delivers it by form_post when asked', async () => {
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: 'openid', nonce, state, response_mode: 'form_post' });
    const cb = await browser.authorize(url.href, { username: ALICE.username, password: ALICE.password });
    expect(cb.via).toBe('form_post');
    const claims = await client.implicitAuthentication(rp, asUrl(cb), nonce, { expectedState: state });
    expect(claims.sub).toBe(ALICE.sub);
  });

  it('adds single claims asked for with the claims parameter (OIDC Core 5.5), only those discovery lists', async () => {
    const nonce = client.randomNonce();
    const claimsParameter = { id_token: { email: { essential: true }, employee_id: null } };
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: 'openid', nonce, claims: JSON.stringify(claimsParameter) });
    const cb = await browser.authorize(url.href, { username: ALICE.username, password: ALICE.password });
    const claims = await client.implicitAuthentication(rp, asUrl(cb), nonce);
    expect(claims.email).toBe('alice@example.com');
    expect(claims.name).toBeUndefined();
    // the same rule as the code flow: a claim outside claims_supported is not handed out
    expect(rp.serverMetadata().claims_supported).not.toContain('employee_id');
    expect(claims.employee_id).toBeUndefined();
  });
});

describe('response_type="id_token token"', () => {
  it('returns an access token and an ID token whose at_hash matches it; the scope claims come from userinfo', async () => {
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: 'openid profile email', nonce, state, response_type: 'id_token token' });
    const cb = await browser.authorize(url.href, { username: ALICE.username, password: ALICE.password });
    const p = cb.params;
    expect(p.get('state')).toBe(state);
    expect(p.get('iss')).toBe(s.issuer);
    expect(p.get('token_type')).toBe('Bearer');
    expect(Number(p.get('expires_in'))).toBeGreaterThan(0);
    const accessToken = p.get('access_token')!;
    const id = await verified(p.get('id_token')!, 'implicit');
    expect(id).toMatchObject({ sub: ALICE.sub, nonce, azp: 'implicit' });
    expect(typeof id.auth_time).toBe('number');
    // OIDC Core §3.2.2.9: left half of SHA-256 of the access token
    const digest = createHash('sha256').update(accessToken).digest();
    expect(id.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
    expect(id.email).toBeUndefined();
    const info = await client.fetchUserInfo(rp, accessToken, ALICE.sub);
    expect(info).toMatchObject({ sub: ALICE.sub, email: 'alice@example.com', name: 'Alice Example' });
  });

  it('drops offline_access (OIDC Core 11: no code, no offline access) and says so in scope', async () => {
    const offline = await relyingParty(s.issuer, 'implicit-offline');
    const url = client.buildAuthorizationUrl(offline, {
      redirect_uri: 'https://implicit-offline.example.com/cb',
      scope: 'openid profile offline_access',
      nonce: client.randomNonce(),
      response_type: 'id_token token',
    });
    const cb = await browser.authorize(url.href, { username: ALICE.username, password: ALICE.password });
    expect(cb.params.get('scope')).toBe('openid profile');
    expect(cb.params.get('refresh_token')).toBeNull();
  });

  it('is unauthorized_client for a client that registered only code', async () => {
    const web = await relyingParty(s.issuer, 'web');
    const url = client.buildAuthorizationUrl(web, { redirect_uri: 'http://127.0.0.1:8080/callback', scope: 'openid', nonce: 'n', response_type: 'id_token token' });
    const cb = await browser.authorize(url.href, { username: ALICE.username, password: ALICE.password });
    expect(cb.params.get('error')).toBe('unauthorized_client');
    expect(new URL(cb.url).hash).toContain('error=unauthorized_client');
  });
});
