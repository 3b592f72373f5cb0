// Authorization code flow with PKCE and OpenID Connect, driven by openid-client against a
// listening server, the browser part walked through the login and consent forms (issue 3,
// "Token endpoint").
import { sql } from 'kysely';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/crypto/hash.js';
import { ALICE, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser } from './support/browser.js';
import { conformanceClients, EXTRA_SECRETS } from './support/clients.js';
import { callbackInput, codeFlow, recordResponses, refusal, relyingParty, signIn } from './support/rp.js';

/** RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
const RFC6749_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

let s: TestServer;
let browser: Browser;
let web: client.Configuration;
beforeAll(async () => {
  s = await startTestServer({ listen: true, clients: conformanceClients() });
  web = await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web));
  // one browser for the file: it signs in once and is remembered after that
  browser = new Browser(s.issuer);
});
afterAll(async () => s?.close());

async function expectRefusal(p: Promise<unknown>, error: string, status = 400): Promise<string> {
  const e = await refusal(p);
  expect(e.error).toBe(error);
  expect(e.status).toBe(status);
  expect(e.error_description).toMatch(RFC6749_DESCRIPTION);
  return e.error_description!;
}

/** The grant behind an authorization code, as stored. */
async function grantOfCode(code: string): Promise<string> {
  const row = await s.ctx.db.selectFrom('authorization_codes').select('grant_id').where('code_hash', '=', sha256(code)).executeTakeFirstOrThrow();
  return row.grant_id;
}

describe('code flow: success', () => {
  it('signs in through login and consent and gets access, ID and refresh tokens (confidential client, PKCE)', async () => {
    const responses = recordResponses(web);
    const { tokens, callback } = await codeFlow(web, browser, { redirect_uri: REDIRECT, scope: 'openid profile email offline_access' });
    expect(callback.params.get('iss')).toBe(s.issuer);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expiresIn()).toBeGreaterThan(3500);
    expect(tokens.scope).toBe('openid profile email offline_access');
    expect(tokens.refresh_token).toBeTruthy();
    // openid-client checked signature, iss, aud, exp, nonce and at_hash already
    const id = tokens.claims()!;
    expect(id.sub).toBe(ALICE.sub);
    expect(typeof id.auth_time).toBe('number');
    expect(id.at_hash).toBeTruthy();
    // OIDC Core §5.4: with an access token the scope's claims come from userinfo, not the ID token
    expect(id.email).toBeUndefined();
    const info = await client.fetchUserInfo(web, tokens.access_token, id.sub);
    expect(info).toMatchObject({ sub: ALICE.sub, name: 'Alice Example', email: 'alice@example.com', email_verified: true });
    // RFC 6749 §5.1
    const tokenResponse = responses.find((r) => r.url.endsWith('/token'))!.response;
    expect(tokenResponse.headers.get('cache-control')).toBe('no-store');
    expect(tokenResponse.headers.get('pragma')).toBe('no-cache');
  });

  it('works for a public client with PKCE and no secret', async () => {
    const spa = await relyingParty(s.issuer, 'spa', client.None());
    const { tokens } = await codeFlow(spa, browser, { redirect_uri: 'http://localhost:5173/cb', scope: 'openid email' });
    expect(tokens.claims()!.aud).toBe('spa');
    expect((await client.fetchUserInfo(spa, tokens.access_token, ALICE.sub)).email).toBe('alice@example.com');
  });

  it('redeems a code delivered by response_mode=form_post', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid', params: { response_mode: 'form_post' } });
    expect(callback.via).toBe('form_post');
    const tokens = await client.authorizationCodeGrant(web, callbackInput(callback), checks);
    expect(tokens.claims()!.sub).toBe(ALICE.sub);
  });

  it('puts claims asked for with the claims parameter in the ID token or userinfo (OIDC Core 5.5)', async () => {
    const claims = JSON.stringify({ id_token: { email: { essential: true } }, userinfo: { phone_number: null } });
    const { tokens } = await codeFlow(web, browser, { redirect_uri: REDIRECT, scope: 'openid', params: { claims } });
    expect(tokens.claims()!.email).toBe('alice@example.com');
    const info = await client.fetchUserInfo(web, tokens.access_token, ALICE.sub);
    expect(info.phone_number).toBe('+1 555 0100');
    expect(info.email).toBeUndefined();
  });

  it('issues no refresh token to a client that did not register the refresh_token grant', async () => {
    const rp = await relyingParty(s.issuer, 'code-only', client.ClientSecretBasic(EXTRA_SECRETS.codeOnly));
    const { tokens } = await codeFlow(rp, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('issues no ID token without the openid scope', async () => {
    const { tokens } = await codeFlow(web, browser, { redirect_uri: REDIRECT, scope: 'profile offline_access' });
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.access_token).toBeTruthy();
  });
});

describe('code flow: refusals', () => {
  it('refuses a replayed code and revokes every token the first redemption issued (RFC 6749 4.1.2)', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT });
    const first = await client.authorizationCodeGrant(web, callbackInput(callback), checks);
    expect(await expectRefusal(client.authorizationCodeGrant(web, callbackInput(callback), checks), 'invalid_grant')).toMatch(/already used/);
    const e = await client.fetchUserInfo(web, first.access_token, ALICE.sub).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    expect((e as client.WWWAuthenticateChallengeError).cause[0]!.parameters.error).toBe('invalid_token');
    await expectRefusal(client.refreshTokenGrant(web, first.refresh_token!), 'invalid_grant');
  });

  it('refuses a code issued to another client, and leaves it to its own client', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    const other = await relyingParty(s.issuer, 'code-only', client.ClientSecretBasic(EXTRA_SECRETS.codeOnly));
    expect(await expectRefusal(client.authorizationCodeGrant(other, callbackInput(callback), checks), 'invalid_grant')).toMatch(/another client/);
    expect((await client.authorizationCodeGrant(web, callbackInput(callback), checks)).access_token).toBeTruthy();
  });

  it('refuses an expired code', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    // AUTHORIZATION_CODE_TTL has passed
    await s.ctx.db.updateTable('authorization_codes').set({ expires_at: sql`now() - interval '1 second'` }).where('code_hash', '=', sha256(callback.params.get('code')!)).execute();
    expect(await expectRefusal(client.authorizationCodeGrant(web, callbackInput(callback), checks), 'invalid_grant')).toMatch(/expired/);
  });

  it('refuses a redirect_uri other than the one used at /authorize (RFC 6749 4.1.3)', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    // openid-client sends the URL it was called back at as redirect_uri; web registered this one too
    const elsewhere = new URL(`https://app.example.com/cb?${callback.params}`);
    expect(await expectRefusal(client.authorizationCodeGrant(web, elsewhere, checks), 'invalid_grant')).toMatch(/redirect_uri/);
  });

  it('refuses a code_verifier that does not match the code_challenge (RFC 7636 4.6)', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    const wrong = { ...checks, pkceCodeVerifier: client.randomPKCECodeVerifier() };
    expect(await expectRefusal(client.authorizationCodeGrant(web, callbackInput(callback), wrong), 'invalid_grant')).toMatch(/code_verifier/);
  });

  it('refuses to redeem a code issued with a code_challenge without the code_verifier', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    const { pkceCodeVerifier: _dropped, ...without } = checks;
    expect(await expectRefusal(client.authorizationCodeGrant(web, callbackInput(callback), without), 'invalid_grant')).toMatch(/code_verifier is required/);
  });

  it('refuses a code_verifier for a code issued without a code_challenge (PKCE downgrade, RFC 9700 2.1.1)', async () => {
    const rp = await relyingParty(s.issuer, 'no-pkce', client.ClientSecretBasic(EXTRA_SECRETS.noPkce));
    const { callback, checks } = await signIn(rp, browser, { redirect_uri: REDIRECT, scope: 'openid', pkce: false });
    const injected = { ...checks, pkceCodeVerifier: client.randomPKCECodeVerifier() };
    expect(await expectRefusal(client.authorizationCodeGrant(rp, callbackInput(callback), injected), 'invalid_grant')).toMatch(/no code_challenge/);
  });

  it('redeems a code issued without a code_challenge when no verifier is sent (require_pkce false)', async () => {
    const rp = await relyingParty(s.issuer, 'no-pkce', client.ClientSecretBasic(EXTRA_SECRETS.noPkce));
    const { tokens } = await codeFlow(rp, browser, { redirect_uri: REDIRECT, scope: 'openid', pkce: false });
    expect(tokens.claims()!.sub).toBe(ALICE.sub);
  });

  it('refuses a code whose grant has ended', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    await s.ctx.repos.grants.revokeGrant(await grantOfCode(callback.params.get('code')!));
    expect(await expectRefusal(client.authorizationCodeGrant(web, callbackInput(callback), checks), 'invalid_grant')).toMatch(/revoked/);
  });

  it('refuses an unknown code', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    const forged = new URL(callback.url);
    forged.searchParams.set('code', 'not-a-code-we-issued');
    await expectRefusal(client.authorizationCodeGrant(web, forged, checks), 'invalid_grant');
  });

  it('refuses a client that did not register authorization_code (unauthorized_client)', async () => {
    const { callback } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    const service = await relyingParty(s.issuer, 'service', client.ClientSecretBasic(SECRETS.service));
    await expectRefusal(client.genericGrantRequest(service, 'authorization_code', { code: callback.params.get('code')!, redirect_uri: REDIRECT }), 'unauthorized_client');
  });

  it('refuses a wrong client secret with 401 invalid_client, and the code stays good', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    const impostor = await relyingParty(s.issuer, 'web', client.ClientSecretBasic('not-the-secret-not-the-secret-not-the-secret'));
    await expectRefusal(client.authorizationCodeGrant(impostor, callbackInput(callback), checks), 'invalid_client', 401);
    expect((await client.authorizationCodeGrant(web, callbackInput(callback), checks)).access_token).toBeTruthy();
  });

  it('gives exactly one of 20 concurrent redemptions of one code a token', async () => {
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.authorizationCodeGrant(web, callbackInput(callback), checks)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as client.ResponseBodyError).error).toBe('invalid_grant');
  });
});
