// The UserInfo endpoint with openid-client against a listening server (issue 3, "Userinfo";
// OIDC Core §5.3, RFC 6750).
import { generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser } from './support/browser.js';
import { conformanceClients, EXTRA_SECRETS } from './support/clients.js';
import { codeFlow, relyingParty } from './support/rp.js';

let s: TestServer;
let browser: Browser;
let web: client.Configuration;
let userinfoEndpoint: string;
beforeAll(async () => {
  s = await startTestServer({ listen: true, clients: conformanceClients() });
  web = await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web));
  userinfoEndpoint = web.serverMetadata().userinfo_endpoint!;
  browser = new Browser(s.issuer);
});
afterAll(async () => s?.close());

const signIn = async (scope: string, rp = web, params: Record<string, string> = {}) => (await codeFlow(rp, browser, { redirect_uri: REDIRECT, scope, params })).tokens;

/** The Bearer challenge of a refused userinfo call (openid-client's WWWAuthenticateChallengeError). */
async function challengeOf(p: Promise<unknown>): Promise<{ status: number; error?: string; description?: string }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof client.WWWAuthenticateChallengeError)) throw new Error(`expected a Bearer challenge, got ${String(e)}`);
  const c = e.cause[0]!;
  expect(c.scheme).toBe('bearer');
  return { status: e.status, error: c.parameters.error, description: c.parameters.error_description };
}

describe('userinfo: claims', () => {
  it('is advertised in discovery', () => {
    expect(userinfoEndpoint).toBe(`${s.issuer}/userinfo`);
  });

  it('answers sub and the claims of the granted scopes, as JSON, never cached', async () => {
    const tokens = await signIn('openid profile email');
    const info = await client.fetchUserInfo(web, tokens.access_token, tokens.claims()!.sub);
    expect(info).toMatchObject({ sub: ALICE.sub, name: 'Alice Example', given_name: 'Alice', family_name: 'Example', email: 'alice@example.com', email_verified: true });
    expect(info.address).toBeUndefined();
    expect(info.phone_number).toBeUndefined();
    const r = await fetch(userinfoEndpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it('serves address and phone for those scopes, and nothing but sub for openid alone', async () => {
    const full = await signIn('openid address phone');
    expect(await client.fetchUserInfo(web, full.access_token, ALICE.sub)).toMatchObject({ address: { country: 'US' }, phone_number: '+1 555 0100' });
    const bare = await signIn('openid');
    expect(await client.fetchUserInfo(web, bare.access_token, ALICE.sub)).toEqual({ sub: ALICE.sub });
  });

  it('adds single claims the claims parameter asked for (OIDC Core 5.5)', async () => {
    const tokens = await signIn('openid', web, { claims: JSON.stringify({ userinfo: { email: null } }) });
    expect(await client.fetchUserInfo(web, tokens.access_token, ALICE.sub)).toEqual({ sub: ALICE.sub, email: 'alice@example.com' });
  });

  it('accepts POST with the token in the form body (RFC 6750 2.2)', async () => {
    const tokens = await signIn('openid email');
    const r = await fetch(userinfoEndpoint, { method: 'POST', body: new URLSearchParams({ access_token: tokens.access_token }) });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { email?: string }).email).toBe('alice@example.com');
  });
});

describe('userinfo: refusals', () => {
  it('challenges a request without a token, with no error code (RFC 6750 3.1)', async () => {
    const r = await fetch(userinfoEndpoint);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers invalid_token for a token it did not issue', async () => {
    const c = await challengeOf(client.fetchUserInfo(web, 'made.up.token', ALICE.sub));
    expect(c).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(c.description).toBeTruthy();
  });

  it('answers invalid_token for an expired token', async () => {
    const rp = await relyingParty(s.issuer, 'short-lived', client.ClientSecretBasic(EXTRA_SECRETS.shortLived));
    const tokens = await signIn('openid email', rp);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await challengeOf(client.fetchUserInfo(rp, tokens.access_token, ALICE.sub))).toMatchObject({ status: 401, error: 'invalid_token' });
  });

  it('answers invalid_token for a revoked access token (RFC 7009)', async () => {
    const tokens = await signIn('openid email');
    await client.tokenRevocation(web, tokens.access_token);
    expect(await challengeOf(client.fetchUserInfo(web, tokens.access_token, ALICE.sub))).toMatchObject({ status: 401, error: 'invalid_token' });
  });

  it('answers invalid_token for a token of a foreign issuer', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({ iss: 'https://idp.example.com', sub: ALICE.sub, aud: 'web', client_id: 'web', scope: 'openid email', jti: 'f-1' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'foreign' })
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    expect(await challengeOf(client.fetchUserInfo(web, foreign, ALICE.sub))).toMatchObject({ status: 401, error: 'invalid_token' });
  });

  it('answers 403 insufficient_scope for a token without openid', async () => {
    const service = await relyingParty(s.issuer, 'service', client.ClientSecretBasic(SECRETS.service));
    const cc = await client.clientCredentialsGrant(service, { scope: 'invoices:read' });
    expect(await challengeOf(client.fetchUserInfo(service, cc.access_token, client.skipSubjectCheck))).toMatchObject({ status: 403, error: 'insufficient_scope' });
  });

  it('refuses an access token in the URL query (RFC 9700 2.4)', async () => {
    const tokens = await signIn('openid');
    const r = await fetch(`${userinfoEndpoint}?access_token=${encodeURIComponent(tokens.access_token)}`);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error?: string }).error).toBe('invalid_request');
  });

  it('refuses a token sent in both the header and the body (RFC 6750 2)', async () => {
    const tokens = await signIn('openid');
    const r = await fetch(userinfoEndpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });
});
