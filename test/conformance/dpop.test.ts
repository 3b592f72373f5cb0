// DPoP (RFC 9449) driven by oauth4webapi, a real client library (openid-client v6 uses it for
// DPoP): the code flow of a public client with refresh and userinfo, client_credentials, and the
// DPoP-Nonce round trip at the token endpoint and at userinfo (issue 9 point 2).
import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, claimsOf, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser } from './support/browser.js';

const SPA_REDIRECT = 'http://localhost:5173/cb';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

interface Server {
  s: TestServer;
  as: oauth.AuthorizationServer;
}

async function server(env: Record<string, string> = {}): Promise<Server> {
  const s = await startTestServer({ listen: true, env });
  const issuer = new URL(s.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  return { s, as };
}

let plain: Server;
let nonces: Server;
beforeAll(async () => {
  [plain, nonces] = await Promise.all([server(), server({ DPOP_NONCE_REQUIRED: 'true' })]);
});
afterAll(async () => {
  await plain?.s.close();
  await nonces?.s.close();
});

async function thumbprint(keyPair: oauth.CryptoKeyPair): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
}

/** Runs a request and its processing again once when the server asks for a DPoP nonce (§8); counts the asks. */
async function withNonceRetry<T>(call: () => Promise<T>, asked: { count: number } = { count: 0 }): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (!oauth.isDPoPNonceError(e)) throw e;
    asked.count++;
    // the DPoP handle has kept the nonce of the DPoP-Nonce header; the retry's proof carries it
    return call();
  }
}

/** The authorization request of the spa (a public client) with PKCE, state and nonce. */
async function spaAuthorizationParams(extra: Record<string, string> = {}) {
  const code_verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const params = new URLSearchParams({
    client_id: 'spa',
    redirect_uri: SPA_REDIRECT,
    response_type: 'code',
    scope: 'openid email offline_access',
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(code_verifier),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { params, code_verifier, state, nonce };
}

/** alice signs in at the browser; the callback's parameters, checked by oauth4webapi. */
async function authorize({ s, as }: Server, query: URLSearchParams, state: string) {
  const url = new URL(as.authorization_endpoint!);
  url.search = query.toString();
  const callback = await new Browser(s.issuer).authorize(url.href, { username: ALICE.username, password: ALICE.password });
  return oauth.validateAuthResponse(as, { client_id: 'spa' }, new URL(callback.url), state);
}

/** Redeems the code of the spa with a proof of `DPoP`. */
function redeem({ as }: Server, DPoP: oauth.DPoPHandle, callback: URLSearchParams, code_verifier: string, nonce: string) {
  const client: oauth.Client = { client_id: 'spa' };
  return oauth.authorizationCodeGrantRequest(as, client, oauth.None(), callback, SPA_REDIRECT, code_verifier, { DPoP, ...insecure }).then((response) =>
    oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true }),
  );
}

/** The spa (public client) signs alice in through the browser; the code is redeemed with DPoP. */
async function spaCodeFlow(server: Server, DPoP: oauth.DPoPHandle, asked?: { count: number }) {
  const { params, code_verifier, state, nonce } = await spaAuthorizationParams();
  const callback = await authorize(server, params, state);
  return withNonceRetry(() => redeem(server, DPoP, callback, code_verifier, nonce), asked);
}

describe('oauth4webapi: DPoP-bound tokens', () => {
  it('advertises the proof algorithms in discovery', () => {
    expect(plain.as.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'EdDSA']));
  });

  it('code flow of a public client with DPoP, then userinfo, then refresh with the same key', async () => {
    const client: oauth.Client = { client_id: 'spa' };
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, keyPair);
    const tokens = await spaCodeFlow(plain, DPoP);
    expect(tokens.token_type).toBe('dpop');
    expect(claimsOf(tokens.access_token).cnf).toEqual({ jkt: await thumbprint(keyPair) });

    const info = await oauth.processUserInfoResponse(plain.as, client, ALICE.sub, await oauth.userInfoRequest(plain.as, client, tokens.access_token, { DPoP, ...insecure }));
    expect(info).toMatchObject({ sub: ALICE.sub, email: 'alice@example.com' });

    const refreshed = await oauth.processRefreshTokenResponse(plain.as, client, await oauth.refreshTokenGrantRequest(plain.as, client, oauth.None(), tokens.refresh_token!, { DPoP, ...insecure }));
    expect(refreshed.token_type).toBe('dpop');
    expect(claimsOf(refreshed.access_token).cnf).toEqual({ jkt: await thumbprint(keyPair) });
    const again = await oauth.processUserInfoResponse(plain.as, client, ALICE.sub, await oauth.userInfoRequest(plain.as, client, refreshed.access_token, { DPoP, ...insecure }));
    expect(again.sub).toBe(ALICE.sub);
  });

  it("refuses to refresh a public client's token with another key, and userinfo with the token as Bearer", async () => {
    const client: oauth.Client = { client_id: 'spa' };
    const keyPair = await oauth.generateKeyPair('ES256');
    const tokens = await spaCodeFlow(plain, oauth.DPoP(client, keyPair));
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const stolen = oauth.refreshTokenGrantRequest(plain.as, client, oauth.None(), tokens.refresh_token!, { DPoP: thief, ...insecure });
    await expect(oauth.processRefreshTokenResponse(plain.as, client, await stolen)).rejects.toMatchObject({ error: 'invalid_grant' });

    const asBearer = await oauth.userInfoRequest(plain.as, client, tokens.access_token, insecure);
    const refusal = await oauth.processUserInfoResponse(plain.as, client, ALICE.sub, asBearer).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const challenges = (refusal as oauth.WWWAuthenticateChallengeError).cause;
    expect(challenges.find((c) => c.scheme === 'bearer')?.parameters.error).toBe('invalid_token');
    expect(challenges.find((c) => c.scheme === 'dpop')?.parameters.algs).toContain('ES256');
  });

  it('client_credentials with DPoP: a bound token, introspected with cnf', async () => {
    const service: oauth.Client = { client_id: 'service' };
    const keyPair = await oauth.generateKeyPair('EdDSA');
    const DPoP = oauth.DPoP(service, keyPair);
    const response = await oauth.clientCredentialsGrantRequest(plain.as, service, oauth.ClientSecretBasic(SECRETS.service), { scope: 'invoices:read' }, { DPoP, ...insecure });
    const tokens = await oauth.processClientCredentialsResponse(plain.as, service, response);
    expect(tokens.token_type).toBe('dpop');
    const web: oauth.Client = { client_id: 'web' };
    const introspected = await oauth.processIntrospectionResponse(plain.as, web, await oauth.introspectionRequest(plain.as, web, oauth.ClientSecretBasic(SECRETS.web), tokens.access_token, insecure));
    expect(introspected).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: await thumbprint(keyPair) } });
  });
});

describe('oauth4webapi: the code bound to a DPoP key at the authorization request (RFC 9449 section 10)', () => {
  it('dpop_jkt at /authorize: only a proof by that key redeems the code', async () => {
    const client: oauth.Client = { client_id: 'spa' };
    const keyPair = await oauth.generateKeyPair('ES256');
    const other = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const stolen = await spaAuthorizationParams({ dpop_jkt: await thumbprint(keyPair) });
    const stolenCallback = await authorize(plain, stolen.params, stolen.state);
    await expect(redeem(plain, other, stolenCallback, stolen.code_verifier, stolen.nonce)).rejects.toMatchObject({ error: 'invalid_grant' });

    const mine = await spaAuthorizationParams({ dpop_jkt: await thumbprint(keyPair) });
    const tokens = await redeem(plain, oauth.DPoP(client, keyPair), await authorize(plain, mine.params, mine.state), mine.code_verifier, mine.nonce);
    expect(tokens.token_type).toBe('dpop');
  });

  it('a DPoP proof sent to /par binds the code to its key (section 10.1)', async () => {
    const client: oauth.Client = { client_id: 'spa' };
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, keyPair);
    const push = async () => {
      const a = await spaAuthorizationParams();
      const pushed = await oauth.processPushedAuthorizationResponse(plain.as, client, await oauth.pushedAuthorizationRequest(plain.as, client, oauth.None(), a.params, { DPoP, ...insecure }));
      return { ...a, callback: await authorize(plain, new URLSearchParams({ client_id: 'spa', request_uri: pushed.request_uri }), a.state) };
    };
    const first = await push();
    await expect(redeem(plain, oauth.DPoP(client, await oauth.generateKeyPair('ES256')), first.callback, first.code_verifier, first.nonce)).rejects.toMatchObject({ error: 'invalid_grant' });
    const second = await push();
    const tokens = await redeem(plain, DPoP, second.callback, second.code_verifier, second.nonce);
    expect(claimsOf(tokens.access_token).cnf).toEqual({ jkt: await thumbprint(keyPair) });
  });
});

describe('oauth4webapi: DPoP-Nonce round trips (DPOP_NONCE_REQUIRED=true)', () => {
  it('client_credentials: use_dpop_nonce first, then the retry with the nonce gets a bound token', async () => {
    const service: oauth.Client = { client_id: 'service' };
    const DPoP = oauth.DPoP(service, await oauth.generateKeyPair('ES256'));
    const asked = { count: 0 };
    const tokens = await withNonceRetry(async () => {
      const response = await oauth.clientCredentialsGrantRequest(nonces.as, service, oauth.ClientSecretBasic(SECRETS.service), { scope: 'invoices:read' }, { DPoP, ...insecure });
      return oauth.processClientCredentialsResponse(nonces.as, service, response);
    }, asked);
    expect(asked.count).toBe(1);
    expect(tokens.token_type).toBe('dpop');
  });

  it('code flow and userinfo: the token endpoint and userinfo each ask a new DPoP handle for a nonce once', async () => {
    const client: oauth.Client = { client_id: 'spa' };
    const keyPair = await oauth.generateKeyPair('ES256');
    const asked = { count: 0 };
    const tokens = await spaCodeFlow(nonces, oauth.DPoP(client, keyPair), asked);
    expect(asked.count).toBe(1);
    // a new handle for the same key knows no nonce yet: userinfo asks for one (§9)
    const DPoP = oauth.DPoP(client, keyPair);
    const info = await withNonceRetry(async () => oauth.processUserInfoResponse(nonces.as, client, ALICE.sub, await oauth.userInfoRequest(nonces.as, client, tokens.access_token, { DPoP, ...insecure })), asked);
    expect(asked.count).toBe(2);
    expect(info.email).toBe('alice@example.com');
  });
});
