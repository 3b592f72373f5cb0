// Pushed authorization requests (RFC 9126) and request objects (RFC 9101) driven by
// openid-client v6, a real relying party: buildAuthorizationUrlWithPAR and
// buildAuthorizationUrlWithJAR, through the login and consent pages, to tokens (issue 9).
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { ALICE, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser } from './support/browser.js';
import { conformanceClients } from './support/clients.js';
import { callbackInput, relyingParty, startAuthorization } from './support/rp.js';

const PAR_SECRET = 'par-only-secret-0123456789-0123456789-012';
const JAR_SECRET = 'signed-only-secret-0123456789-0123456789';
const SIGN_IN = { username: ALICE.username, password: ALICE.password };

let s: TestServer;
let signingKey: CryptoKey;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  s = await startTestServer({
    listen: true,
    clients: [
      ...conformanceClients(),
      clientSchema.parse({
        client_id: 'par-only',
        client_secret: PAR_SECRET,
        client_name: 'PAR-only app',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile email offline_access',
        require_pushed_authorization_requests: true,
      }),
      clientSchema.parse({
        client_id: 'signed-only',
        client_secret: JAR_SECRET,
        client_name: 'Signed requests app',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code'],
        scope: 'openid profile email',
        jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), alg: 'ES256' }] },
        require_signed_request_object: true,
        request_object_signing_alg: 'ES256',
      }),
    ],
  });
});
afterAll(async () => s?.close());

describe('openid-client: pushed authorization requests', () => {
  it('buildAuthorizationUrlWithPAR, login and consent, then tokens (a client that requires PAR)', async () => {
    const rp = await relyingParty(s.issuer, 'par-only', client.ClientSecretBasic(PAR_SECRET));
    expect(rp.serverMetadata().pushed_authorization_request_endpoint).toBe(`${s.issuer}/par`);
    const { url, checks } = await startAuthorization(rp, { redirect_uri: REDIRECT, scope: 'openid profile email offline_access' });
    const redirectTo = await client.buildAuthorizationUrlWithPAR(rp, url.searchParams);
    // the browser carries only client_id and request_uri (RFC 9126 §4)
    expect([...redirectTo.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const callback = await new Browser(s.issuer).authorize(redirectTo.href, SIGN_IN);
    const tokens = await client.authorizationCodeGrant(rp, callbackInput(callback), checks);
    expect(tokens.claims()!.sub).toBe(ALICE.sub);
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe('openid profile email offline_access');
  });

  it('the same client without PAR gets invalid_request at its redirect_uri', async () => {
    const rp = await relyingParty(s.issuer, 'par-only', client.ClientSecretBasic(PAR_SECRET));
    const { url, checks } = await startAuthorization(rp, { redirect_uri: REDIRECT });
    const callback = await new Browser(s.issuer).authorize(url.href, { maxSteps: 0 });
    await expect(client.authorizationCodeGrant(rp, callbackInput(callback), checks)).rejects.toMatchObject({ error: 'invalid_request' });
  });

  it('openid-client sees a pushed request refused with the RFC error', async () => {
    const rp = await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web));
    const { url } = await startAuthorization(rp, { redirect_uri: 'https://evil.example.com/cb' });
    await expect(client.buildAuthorizationUrlWithPAR(rp, url.searchParams)).rejects.toMatchObject({ error: 'invalid_request', status: 400 });
  });
});

describe('openid-client: request objects', () => {
  it('buildAuthorizationUrlWithJAR (by value), login and consent, then tokens', async () => {
    const rp = await relyingParty(s.issuer, 'signed-only', client.ClientSecretBasic(JAR_SECRET));
    const { url, checks } = await startAuthorization(rp, { redirect_uri: REDIRECT, scope: 'openid email' });
    const redirectTo = await client.buildAuthorizationUrlWithJAR(rp, url.searchParams, signingKey);
    expect([...redirectTo.searchParams.keys()].sort()).toEqual(['client_id', 'request']);
    const callback = await new Browser(s.issuer).authorize(redirectTo.href, SIGN_IN);
    const tokens = await client.authorizationCodeGrant(rp, callbackInput(callback), checks);
    expect(tokens.claims()!.sub).toBe(ALICE.sub);
    expect(tokens.scope).toBe('openid email');
  });

  it('buildAuthorizationUrlWithJAR then buildAuthorizationUrlWithPAR (by reference), then tokens', async () => {
    const rp = await relyingParty(s.issuer, 'signed-only', client.ClientSecretBasic(JAR_SECRET));
    const { url, checks } = await startAuthorization(rp, { redirect_uri: REDIRECT, scope: 'openid profile' });
    const { searchParams } = await client.buildAuthorizationUrlWithJAR(rp, url.searchParams, signingKey);
    const redirectTo = await client.buildAuthorizationUrlWithPAR(rp, searchParams);
    expect([...redirectTo.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const callback = await new Browser(s.issuer).authorize(redirectTo.href, SIGN_IN);
    const tokens = await client.authorizationCodeGrant(rp, callbackInput(callback), checks);
    expect(tokens.claims()!.sub).toBe(ALICE.sub);
    expect(tokens.scope).toBe('openid profile');
  });

  it('a request object signed with a key the client did not register reaches the client as invalid_request_object', async () => {
    const rp = await relyingParty(s.issuer, 'signed-only', client.ClientSecretBasic(JAR_SECRET));
    const { url, checks } = await startAuthorization(rp, { redirect_uri: REDIRECT });
    const other = (await generateKeyPair('ES256')).privateKey;
    const redirectTo = await client.buildAuthorizationUrlWithJAR(rp, url.searchParams, other);
    // outside the object there is no state, so check the error without openid-client's state check
    const callback = await new Browser(s.issuer).authorize(redirectTo.href, { maxSteps: 0 });
    expect(callback.params.get('error')).toBe('invalid_request_object');
    await expect(client.authorizationCodeGrant(rp, callbackInput(callback), { ...checks, expectedState: client.skipStateCheck })).rejects.toMatchObject({ error: 'invalid_request_object' });
  });
});
