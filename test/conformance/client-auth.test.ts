// Client authentication at the token endpoint in the code flow, with openid-client against a
// listening server (issue 3, "Token endpoint"): client_secret_basic, client_secret_post,
// private_key_jwt (RFC 7523, jti replay refused), none; only the registered method; 401
// invalid_client with a Basic challenge when Basic was tried (RFC 6749 §5.2).
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { randomToken } from '../../src/crypto/random.js';
import { ALICE, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser } from './support/browser.js';
import { conformanceClients } from './support/clients.js';
import { callbackInput, codeFlow, refusal, relyingParty, signIn } from './support/rp.js';

const POST_SECRET = 'post-secret-0123456789-0123456789-0123456';
let s: TestServer;
let browser: Browser;
let privateKey: CryptoKey;
let es384Key: CryptoKey;
let tokenEndpoint: string;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  const es384 = await generateKeyPair('ES384');
  es384Key = es384.privateKey;
  const common = { redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid email offline_access', skip_consent: true };
  s = await startTestServer({
    listen: true,
    clients: [
      ...conformanceClients(),
      clientSchema.parse({ ...common, client_id: 'pkjwt', client_name: 'private_key_jwt app', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), alg: 'ES256' }] } }),
      clientSchema.parse({ ...common, client_id: 'pkjwt384', client_name: 'ES384 app', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(es384.publicKey)), alg: 'ES384' }] } }),
      clientSchema.parse({ ...common, client_id: 'post', client_name: 'client_secret_post app', token_endpoint_auth_method: 'client_secret_post', client_secret: POST_SECRET }),
    ],
  });
  browser = new Browser(s.issuer);
  tokenEndpoint = `${s.issuer}/token`;
});
afterAll(async () => s?.close());

/** A client assertion (RFC 7523 §3) for `pkjwt`, signed with its registered key. */
function assertion(claims: { jti?: string | undefined; aud?: string } = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('pkjwt').setSubject('pkjwt').setAudience(claims.aud ?? tokenEndpoint).setIssuedAt().setExpirationTime('1m');
  if (!('jti' in claims)) jwt.setJti(randomToken(16));
  else if (claims.jti !== undefined) jwt.setJti(claims.jti);
  return jwt.sign(privateKey);
}

/** A code for `pkjwt` (or another client) and the verifier to redeem it, from the browser. */
async function codeFor(rp: client.Configuration) {
  const { callback, checks } = await signIn(rp, browser, { redirect_uri: REDIRECT, scope: 'openid email' });
  return { code: callback.params.get('code')!, verifier: checks.pkceCodeVerifier!, callback, checks };
}

async function redeemWithAssertion(code: string, verifier: string, clientAssertion: string) {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
    }),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as { error?: string; error_description?: string; access_token?: string } };
}

describe('client authentication methods at /token', () => {
  it('private_key_jwt (RFC 7523): openid-client signs the assertion, the code and the refresh token are redeemed', async () => {
    const rp = await relyingParty(s.issuer, 'pkjwt', client.PrivateKeyJwt(privateKey));
    const { tokens } = await codeFlow(rp, browser, { redirect_uri: REDIRECT, scope: 'openid email offline_access' });
    expect(tokens.claims()!.sub).toBe(ALICE.sub);
    expect((await client.refreshTokenGrant(rp, tokens.refresh_token!)).access_token).toBeTruthy();
  });

  it('client_secret_post: the secret in the form body', async () => {
    const rp = await relyingParty(s.issuer, 'post', client.ClientSecretPost(POST_SECRET));
    const { tokens } = await codeFlow(rp, browser, { redirect_uri: REDIRECT, scope: 'openid email' });
    expect(tokens.claims()!.aud).toBe('post');
  });

  it('refuses a client assertion whose jti was used before (RFC 7523 3 item 7), and the code stays good', async () => {
    const rp = await relyingParty(s.issuer, 'pkjwt', client.PrivateKeyJwt(privateKey));
    const once = await assertion();
    const first = await codeFor(rp);
    expect((await redeemWithAssertion(first.code, first.verifier, once)).status).toBe(200);
    const second = await codeFor(rp);
    const replay = await redeemWithAssertion(second.code, second.verifier, once);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_client');
    expect(replay.body.error_description).toMatch(/jti/);
    // Basic was not tried, so no Basic challenge
    expect(replay.challenge).toBeNull();
    expect((await redeemWithAssertion(second.code, second.verifier, await assertion())).status).toBe(200);
  });

  it('refuses a client assertion without jti, or for another audience', async () => {
    const rp = await relyingParty(s.issuer, 'pkjwt', client.PrivateKeyJwt(privateKey));
    const { code, verifier } = await codeFor(rp);
    for (const bad of [await assertion({ jti: undefined }), await assertion({ aud: 'https://other.example.com/token' })]) {
      const r = await redeemWithAssertion(code, verifier, bad);
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_client');
    }
    expect((await redeemWithAssertion(code, verifier, await assertion())).status).toBe(200);
  });

  it('refuses a client assertion signed with an algorithm discovery does not advertise', async () => {
    const rp = await relyingParty(s.issuer, 'pkjwt384', client.PrivateKeyJwt(es384Key));
    expect(rp.serverMetadata().token_endpoint_auth_signing_alg_values_supported).not.toContain('ES384');
    const { callback, checks } = await signIn(rp, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    expect(await refusal(client.authorizationCodeGrant(rp, callbackInput(callback), checks))).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('answers a failed client_secret_basic with 401 invalid_client and a Basic challenge (RFC 6749 5.2)', async () => {
    const web = await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web));
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    const impostor = await relyingParty(s.issuer, 'web', client.ClientSecretBasic('not-the-secret-not-the-secret-not-the-secret'));
    const e = await client.authorizationCodeGrant(impostor, callbackInput(callback), checks).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    const challenge = e as client.WWWAuthenticateChallengeError;
    expect(challenge.status).toBe(401);
    expect(challenge.cause[0]!.scheme).toBe('basic');
    expect(((await challenge.response.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('accepts only the registered method: Basic client using client_secret_post, secret-less confidential client, public client with a secret', async () => {
    const web = await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web));
    const { callback, checks } = await signIn(web, browser, { redirect_uri: REDIRECT, scope: 'openid' });
    for (const auth of [client.ClientSecretPost(SECRETS.web), client.None()]) {
      const wrong = await relyingParty(s.issuer, 'web', auth);
      const e = await refusal(client.authorizationCodeGrant(wrong, callbackInput(callback), checks));
      expect(e).toMatchObject({ status: 401, error: 'invalid_client' });
    }
    const spa = await relyingParty(s.issuer, 'spa', client.ClientSecretPost('a-secret-the-public-client-does-not-have-0'));
    const { callback: spaCallback, checks: spaChecks } = await signIn(spa, browser, { redirect_uri: 'http://localhost:5173/cb', scope: 'openid' });
    expect(await refusal(client.authorizationCodeGrant(spa, callbackInput(spaCallback), spaChecks))).toMatchObject({ status: 401, error: 'invalid_client' });
    // none of the refused attempts spent the code
    expect((await client.authorizationCodeGrant(web, callbackInput(callback), checks)).access_token).toBeTruthy();
  });
});
