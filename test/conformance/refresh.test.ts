// Refresh tokens with openid-client against a listening server (issue 3, "refresh_token"):
// rotation, reuse detection, scope narrowing, refreshed ID tokens, refusals.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser } from './support/browser.js';
import { conformanceClients, EXTRA_SECRETS } from './support/clients.js';
import { codeFlow, recordResponses, refusal, relyingParty } from './support/rp.js';

const RFC6749_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

let s: TestServer;
let browser: Browser;
let web: client.Configuration;
beforeAll(async () => {
  s = await startTestServer({ listen: true, clients: conformanceClients() });
  web = await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web));
  browser = new Browser(s.issuer);
});
afterAll(async () => s?.close());

async function expectRefusal(p: Promise<unknown>, error: string): Promise<string> {
  const e = await refusal(p);
  expect(e.error).toBe(error);
  expect(e.status).toBe(400);
  expect(e.error_description).toMatch(RFC6749_DESCRIPTION);
  return e.error_description!;
}

async function userinfoError(rp: client.Configuration, accessToken: string): Promise<string | undefined> {
  const e = await client.fetchUserInfo(rp, accessToken, ALICE.sub).then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof client.WWWAuthenticateChallengeError)) throw new Error(`expected a Bearer challenge, got ${String(e)}`);
  return e.cause[0]!.parameters.error;
}

const signIn = async (scope = 'openid profile email offline_access', rp = web) => (await codeFlow(rp, browser, { redirect_uri: REDIRECT, scope })).tokens;

describe('refresh: rotation', () => {
  it('answers new tokens and a new refresh token, never cached', async () => {
    const first = await signIn();
    const responses = recordResponses(web);
    const next = await client.refreshTokenGrant(web, first.refresh_token!);
    expect(next.refresh_token).toBeTruthy();
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect(next.scope).toBe('openid profile email offline_access');
    expect((await client.fetchUserInfo(web, next.access_token, ALICE.sub)).email).toBe('alice@example.com');
    const r = responses.find((x) => x.url.endsWith('/token'))!.response;
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('pragma')).toBe('no-cache');
    // the new refresh token works in turn
    expect((await client.refreshTokenGrant(web, next.refresh_token!)).access_token).toBeTruthy();
  });

  it('refreshes the ID token with the same sub and auth_time and no nonce (OIDC Core 12.2)', async () => {
    const first = await signIn();
    const before = first.claims()!;
    const after = (await client.refreshTokenGrant(web, first.refresh_token!)).claims()!;
    expect(after.sub).toBe(before.sub);
    expect(after.auth_time).toBe(before.auth_time);
    expect(after.nonce).toBeUndefined();
    expect(after.iat).toBeGreaterThanOrEqual(before.iat);
  });

  it('ends the whole family when a rotated refresh token is used again (RFC 9700 4.14.2)', async () => {
    const first = await signIn();
    const second = await client.refreshTokenGrant(web, first.refresh_token!);
    expect(await expectRefusal(client.refreshTokenGrant(web, first.refresh_token!), 'invalid_grant')).toMatch(/already used/);
    await expectRefusal(client.refreshTokenGrant(web, second.refresh_token!), 'invalid_grant');
    expect(await userinfoError(web, second.access_token)).toBe('invalid_token');
    expect(await userinfoError(web, first.access_token)).toBe('invalid_token');
  });

  it('gives exactly one of 20 concurrent refreshes with one token new tokens', async () => {
    const first = await signIn();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.refreshTokenGrant(web, first.refresh_token!)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as client.ResponseBodyError).error).toBe('invalid_grant');
  });
});

describe('refresh: scope', () => {
  it('narrows the scope on request; the next refresh may ask for the original scope again (RFC 6749 6)', async () => {
    const first = await signIn();
    const narrow = await client.refreshTokenGrant(web, first.refresh_token!, { scope: 'openid email' });
    expect(narrow.scope).toBe('openid email');
    const info = await client.fetchUserInfo(web, narrow.access_token, ALICE.sub);
    expect(info.email).toBe('alice@example.com');
    expect(info.name).toBeUndefined();
    const again = await client.refreshTokenGrant(web, narrow.refresh_token!, { scope: 'openid profile email' });
    expect(again.scope).toBe('openid profile email');
  });

  it('refuses a wider scope with invalid_scope, and the refresh token stays good', async () => {
    const first = await signIn('openid email offline_access');
    expect(await expectRefusal(client.refreshTokenGrant(web, first.refresh_token!, { scope: 'openid email profile' }), 'invalid_scope')).toMatch(/profile/);
    expect((await client.refreshTokenGrant(web, first.refresh_token!)).access_token).toBeTruthy();
  });
});

describe('refresh: refusals', () => {
  it("refuses another client's refresh token, and the token stays good", async () => {
    const first = await signIn();
    const spa = await relyingParty(s.issuer, 'spa', client.None());
    expect(await expectRefusal(client.refreshTokenGrant(spa, first.refresh_token!), 'invalid_grant')).toMatch(/another client/);
    const legacy = await relyingParty(s.issuer, 'legacy', client.ClientSecretPost(SECRETS.legacy));
    await expectRefusal(client.refreshTokenGrant(legacy, first.refresh_token!), 'invalid_grant');
    expect((await client.refreshTokenGrant(web, first.refresh_token!)).access_token).toBeTruthy();
  });

  it('refuses a refresh token whose grant was revoked (RFC 7009 revocation ends the grant)', async () => {
    const first = await signIn();
    await client.tokenRevocation(web, first.refresh_token!);
    await expectRefusal(client.refreshTokenGrant(web, first.refresh_token!), 'invalid_grant');
    expect(await userinfoError(web, first.access_token)).toBe('invalid_token');
  });

  it('refuses an expired refresh token', async () => {
    const rp = await relyingParty(s.issuer, 'short-lived', client.ClientSecretBasic(EXTRA_SECRETS.shortLived));
    const first = await signIn('openid offline_access', rp);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await expectRefusal(client.refreshTokenGrant(rp, first.refresh_token!), 'invalid_grant')).toMatch(/expired/);
  });

  it('refuses a refresh token that was never issued', async () => {
    await expectRefusal(client.refreshTokenGrant(web, 'not-a-refresh-token'), 'invalid_grant');
  });

  it('refuses a client that did not register refresh_token (unauthorized_client)', async () => {
    const first = await signIn();
    const rp = await relyingParty(s.issuer, 'code-only', client.ClientSecretBasic(EXTRA_SECRETS.codeOnly));
    await expectRefusal(client.refreshTokenGrant(rp, first.refresh_token!), 'unauthorized_client');
  });
});
