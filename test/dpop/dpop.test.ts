// DPoP (RFC 9449) at the endpoints, with proofs made by hand: every check of §4.3 at /token, the
// binding of access tokens (cnf.jkt, token_type DPoP) and of public clients' refresh tokens, the
// per-client dpop_bound_access_tokens, /userinfo with the DPoP scheme (ath, §7.1 challenges, a
// bound token refused as Bearer), introspection, discovery, CORS, and nonces and jti replay
// shared by two instances on one database.
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { currentNonce } from '../../src/oauth/dpop/nonce.js';
import { issueCode } from '../grants/fixtures.js';
import { basic, claimsOf, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { ACCESS_TOKEN, ORDERS_API, TOKEN_EXCHANGE, tokenExchangeClients, TX_SECRETS } from '../token-exchange/clients.js';
import { makeProof, proofKey, unsignedProof, type ProofKey, type ProofOptions } from './support.js';

const BOUND_SECRET = 'dpop-bound-secret-0123456789-0123456789-01';
const SPA_REDIRECT = 'http://localhost:5173/cb';

let s: TestServer;
let key: ProofKey;
let TOKEN_URL: string;
let USERINFO_URL: string;

function clients() {
  return [
    ...tokenExchangeClients(),
    clientSchema.parse({ client_id: 'dpop-bound', client_secret: BOUND_SECRET, grant_types: ['client_credentials'], scope: 'invoices:read', dpop_bound_access_tokens: true }),
  ];
}

beforeAll(async () => {
  s = await startTestServer({ clients: clients() });
  key = await proofKey('ES256');
  TOKEN_URL = `${s.issuer}/token`;
  USERINFO_URL = `${s.issuer}/userinfo`;
});
afterAll(async () => s?.close());

function token(server: TestServer, body: Record<string, string>, headers: Record<string, string> = {}) {
  return server.app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(body).toString(),
  });
}

const SERVICE = basic('service', SECRETS.service);
const CC = { grant_type: 'client_credentials', scope: 'invoices:read' };

/** client_credentials for `service` with the given DPoP header value. */
function ccWithProof(proof: string, server = s) {
  return token(server, CC, { authorization: SERVICE, dpop: proof });
}

async function ccProof(o: Partial<ProofOptions> = {}, k = key): Promise<string> {
  return makeProof(k, { htu: TOKEN_URL, ...o });
}

function expectRefused(r: { statusCode: number; json: () => { error?: string; error_description?: string } }, error: string, description?: RegExp) {
  expect(r.statusCode).toBe(400);
  expect(r.json().error).toBe(error);
  if (description) expect(r.json().error_description).toMatch(description);
}

/** A user's tokens for a code of `client_id`, redeemed with a proof by `k` (none when k is undefined). */
async function codeTokens(client_id: 'web' | 'spa', k: ProofKey | undefined) {
  const c = await issueCode(s.ctx, { client_id, redirect_uri: client_id === 'spa' ? SPA_REDIRECT : undefined, scope: 'openid email offline_access' });
  const body: Record<string, string> = { grant_type: 'authorization_code', code: c.code, redirect_uri: client_id === 'spa' ? SPA_REDIRECT : 'http://127.0.0.1:8080/callback', code_verifier: c.verifier! };
  if (client_id === 'spa') body.client_id = 'spa';
  const headers: Record<string, string> = client_id === 'web' ? { authorization: basic('web', SECRETS.web) } : {};
  if (k) headers.dpop = await makeProof(k, { htu: TOKEN_URL });
  const r = await token(s, body, headers);
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { access_token: string; refresh_token: string; token_type: string };
}

function refresh(client_id: 'web' | 'spa', refresh_token: string, headers: Record<string, string> = {}) {
  const body: Record<string, string> = { grant_type: 'refresh_token', refresh_token };
  if (client_id === 'spa') body.client_id = 'spa';
  return token(s, body, { ...(client_id === 'web' ? { authorization: basic('web', SECRETS.web) } : {}), ...headers });
}

function userinfo(headers: Record<string, string>, method: 'GET' | 'POST' = 'GET', server = s) {
  return server.app.inject({ method, url: '/userinfo', headers });
}

describe('DPoP at the token endpoint: bound access tokens (RFC 9449 §5, §6)', () => {
  it('binds the access token to the proof key: cnf.jkt is its RFC 7638 thumbprint and token_type is DPoP', async () => {
    const r = await ccWithProof(await ccProof());
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().token_type).toBe('DPoP');
    expect(claimsOf(r.json().access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it('issues plain Bearer tokens without a DPoP header, as before', async () => {
    const r = await token(s, CC, { authorization: SERVICE });
    expect(r.statusCode).toBe(200);
    expect(r.json().token_type).toBe('Bearer');
    expect(claimsOf(r.json().access_token).cnf).toBeUndefined();
  });

  it('binds the tokens of the authorization code grant too', async () => {
    const t = await codeTokens('web', key);
    expect(t.token_type).toBe('DPoP');
    expect(claimsOf(t.access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it('binds the token of a token exchange (RFC 8693) to the proof key', async () => {
    const c = await issueCode(s.ctx, { client_id: 'frontend', scope: 'openid orders:read' });
    const signedIn = await token(s, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier! }, { authorization: basic('frontend', TX_SECRETS.frontend) });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const r = await token(
      s,
      { grant_type: TOKEN_EXCHANGE, subject_token: signedIn.json().access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API },
      { authorization: basic('gateway', TX_SECRETS.gateway), dpop: await ccProof() },
    );
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().token_type).toBe('DPoP');
    expect(claimsOf(r.json().access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it('accepts an htu with a query or fragment, and another spelling of the same URL (§4.3 item 9)', async () => {
    expect((await ccWithProof(await ccProof({ htu: `${TOKEN_URL}?x=1#y` }))).statusCode).toBe(200);
    expect((await ccWithProof(await ccProof({ htu: TOKEN_URL.replace('http://localhost:3000', 'HTTP://LOCALHOST:3000') }))).statusCode).toBe(200);
  });

  it('accepts every algorithm it advertises in dpop_signing_alg_values_supported', async () => {
    const meta = (await s.app.inject('/.well-known/openid-configuration')).json();
    const algs = meta.dpop_signing_alg_values_supported as string[];
    expect(algs).toEqual(expect.arrayContaining(['ES256', 'PS256', 'RS256', 'EdDSA']));
    expect(algs).not.toContain('none');
    expect(algs.filter((a) => a.startsWith('HS'))).toEqual([]);
    for (const alg of algs) {
      const k = await proofKey(alg);
      const r = await ccWithProof(await ccProof({}, k));
      expect(r.statusCode, `${alg}: ${r.body}`).toBe(200);
      expect(claimsOf(r.json().access_token).cnf, alg).toEqual({ jkt: k.jkt });
    }
  }, 120_000); // six RSA key pairs are generated: slow on a loaded machine
});

describe('DPoP at the token endpoint: refused proofs are invalid_dpop_proof (§4.3, §5)', () => {
  it('refuses a typ other than dpop+jwt', async () => {
    expectRefused(await ccWithProof(await ccProof({ typ: 'JWT' })), 'invalid_dpop_proof', /typ/);
  });

  it('refuses alg none', async () => {
    expectRefused(await ccWithProof(unsignedProof(key, TOKEN_URL)), 'invalid_dpop_proof');
  });

  it('refuses a symmetric algorithm (HS256)', async () => {
    const secret = new TextEncoder().encode('a-shared-secret-that-is-long-enough!!');
    const proof = await new SignJWT({ htm: 'POST', htu: TOKEN_URL, iat: Math.floor(Date.now() / 1000), jti: 'hs-1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } as JWK })
      .sign(secret);
    expectRefused(await ccWithProof(proof), 'invalid_dpop_proof', /alg/i);
  });

  it('refuses a private key in the jwk header', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    expect(privateJwk.d).toBeDefined();
    const k: ProofKey = { alg: 'ES256', privateKey, publicJwk: privateJwk, jkt: '' };
    expectRefused(await ccWithProof(await ccProof({}, k)), 'invalid_dpop_proof', /public/);
  });

  it('refuses a signature by a key other than the one in the header', async () => {
    const other = await proofKey('ES256');
    expectRefused(await ccWithProof(await ccProof({ jwk: other.publicJwk })), 'invalid_dpop_proof', /signature/);
  });

  it('refuses a wrong htm', async () => {
    expectRefused(await ccWithProof(await ccProof({ htm: 'GET' })), 'invalid_dpop_proof', /htm/);
  });

  it('refuses a wrong htu: another endpoint, another host', async () => {
    expectRefused(await ccWithProof(await ccProof({ htu: `${s.issuer}/userinfo` })), 'invalid_dpop_proof', /htu/);
    expectRefused(await ccWithProof(await ccProof({ htu: 'https://evil.example/token' })), 'invalid_dpop_proof', /htu/);
    expectRefused(await ccWithProof(await ccProof({ htu: 'not a url' })), 'invalid_dpop_proof', /htu/);
  });

  it('refuses an iat too far in the past or in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectRefused(await ccWithProof(await ccProof({ iat: now - 300 })), 'invalid_dpop_proof', /iat/);
    expectRefused(await ccWithProof(await ccProof({ iat: now + 300 })), 'invalid_dpop_proof', /iat/);
  });

  it('refuses a proof without jti, htm, htu or iat', async () => {
    for (const claim of ['jti', 'htm', 'htu', 'iat']) expectRefused(await ccWithProof(await ccProof({ omit: [claim] })), 'invalid_dpop_proof');
  });

  it('refuses a replayed proof (the same jti twice)', async () => {
    const proof = await ccProof();
    expect((await ccWithProof(proof)).statusCode).toBe(200);
    expectRefused(await ccWithProof(proof), 'invalid_dpop_proof', /jti/);
  });

  it('refuses two DPoP headers and a value that is not a JWT', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: SERVICE, dpop: [await ccProof(), await ccProof()] },
      payload: new URLSearchParams(CC).toString(),
    });
    expectRefused(r, 'invalid_dpop_proof', /exactly one/);
    expectRefused(await ccWithProof('not-a-jwt'), 'invalid_dpop_proof');
  });

  it('leaves nothing behind: a refused proof issues no token and its refresh token stays usable', async () => {
    const t = await codeTokens('web', undefined);
    expectRefused(await refresh('web', t.refresh_token, { dpop: await ccProof({ htm: 'GET' }) }), 'invalid_dpop_proof');
    expect((await refresh('web', t.refresh_token)).statusCode).toBe(200);
  });
});

describe('DPoP per client and for refresh tokens (§5, §5.2)', () => {
  it('refuses a token request without a proof from a client registered with dpop_bound_access_tokens', async () => {
    const auth = { authorization: basic('dpop-bound', BOUND_SECRET) };
    expectRefused(await token(s, CC, auth), 'invalid_request', /DPoP proof/);
    const r = await token(s, CC, { ...auth, dpop: await ccProof() });
    expect(r.statusCode).toBe(200);
    expect(r.json().token_type).toBe('DPoP');
  });

  it("binds a public client's refresh token to the key: another key, or none, is refused", async () => {
    const t = await codeTokens('spa', key);
    const other = await proofKey('ES256');
    const withOther = await refresh('spa', t.refresh_token, { dpop: await makeProof(other, { htu: TOKEN_URL }) });
    expect(withOther.statusCode).toBe(400);
    expect(withOther.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/another DPoP key/) });
    const without = await refresh('spa', t.refresh_token);
    expect(without.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/bound to a DPoP key/) });
    // the refused attempts did not spend it: the right key still refreshes, and the new tokens are bound again
    const ok = await refresh('spa', t.refresh_token, { dpop: await makeProof(key, { htu: TOKEN_URL }) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().token_type).toBe('DPoP');
    expect(claimsOf(ok.json().access_token).cnf).toEqual({ jkt: key.jkt });
    const next = await refresh('spa', ok.json().refresh_token, { dpop: await makeProof(other, { htu: TOKEN_URL }) });
    expect(next.json().error).toBe('invalid_grant');
  });

  it("leaves a confidential client's refresh token bound to its authentication only (§5): refreshing without a proof gives a Bearer token", async () => {
    const t = await codeTokens('web', key);
    const r = await refresh('web', t.refresh_token);
    expect(r.statusCode).toBe(200);
    expect(r.json().token_type).toBe('Bearer');
  });
});

describe('DPoP nonces (§8)', () => {
  it('answers a nonce it did not issue with use_dpop_nonce and a fresh DPoP-Nonce, which then works', async () => {
    const r = await ccWithProof(await ccProof({ nonce: 'made-up' }));
    expectRefused(r, 'use_dpop_nonce');
    const nonce = String(r.headers['dpop-nonce']);
    expect(nonce).toBe(currentNonce(s.ctx));
    const ok = await ccWithProof(await ccProof({ nonce }));
    expect(ok.statusCode).toBe(200);
    // §8.2: a client that uses nonces gets the next one with every answer
    expect(ok.headers['dpop-nonce']).toBe(nonce);
  });

  it('refuses an expired nonce (three windows old)', async () => {
    const old = currentNonce(s.ctx, Date.now() - 3 * 60_000);
    expectRefused(await ccWithProof(await ccProof({ nonce: old })), 'use_dpop_nonce');
  });

  it('shares nonces and the jti replay check between two instances on one database (DPOP_NONCE_REQUIRED)', async () => {
    const env = { DPOP_NONCE_REQUIRED: 'true' };
    const a = await startTestServer({ clients: clients(), env });
    const b = await startTestServer({ clients: clients(), env, db: a.ctx.db });
    try {
      // a proof without a nonce is refused when nonces are required, with the nonce to use
      const first = await ccWithProof(await ccProof(), a);
      expectRefused(first, 'use_dpop_nonce', /requires a nonce/);
      const nonce = String(first.headers['dpop-nonce']);
      // the nonce of instance a works at instance b
      const proof = await ccProof({ nonce });
      const atB = await ccWithProof(proof, b);
      expect(atB.statusCode, atB.body).toBe(200);
      // and the proof b accepted is a replay at a
      expectRefused(await ccWithProof(proof, a), 'invalid_dpop_proof', /jti/);
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('DPoP at /userinfo (§7)', () => {
  it('serves a bound token with the DPoP scheme and a proof with ath, by GET and POST', async () => {
    const t = await codeTokens('web', key);
    for (const method of ['GET', 'POST'] as const) {
      const r = await userinfo({ authorization: `DPoP ${t.access_token}`, dpop: await makeProof(key, { htm: method, htu: USERINFO_URL, accessToken: t.access_token }) }, method);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().email).toBe('alice@example.com');
    }
  });

  it('refuses a bound token sent as a Bearer token, with a Bearer and a DPoP challenge (§7.2)', async () => {
    const t = await codeTokens('web', key);
    const r = await userinfo({ authorization: `Bearer ${t.access_token}` });
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toBe('invalid_token');
    const challenge = String(r.headers['www-authenticate']);
    expect(challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", DPoP algs="[A-Z0-9 a-z]+"$/);
    expect(challenge).toContain('ES256');
  });

  it('refuses a wrong ath, a proof without ath, and a proof for another method or URL, with a DPoP challenge', async () => {
    const t = await codeTokens('web', key);
    const cases: [Partial<ProofOptions>, RegExp][] = [
      [{ accessToken: 'another-token' }, /ath/],
      [{}, /ath/],
      [{ accessToken: t.access_token, htm: 'POST' }, /htm/],
      [{ accessToken: t.access_token, htu: TOKEN_URL }, /htu/],
    ];
    for (const [o, description] of cases) {
      const r = await userinfo({ authorization: `DPoP ${t.access_token}`, dpop: await makeProof(key, { htm: 'GET', htu: USERINFO_URL, ...o }) });
      expect(r.statusCode).toBe(401);
      expect(r.json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(description) });
      expect(String(r.headers['www-authenticate'])).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="[^"]+"$/);
    }
  });

  it('refuses a proof by another key than the bound one, and the DPoP scheme without a proof', async () => {
    const t = await codeTokens('web', key);
    const other = await proofKey('ES256');
    const r = await userinfo({ authorization: `DPoP ${t.access_token}`, dpop: await makeProof(other, { htm: 'GET', htu: USERINFO_URL, accessToken: t.access_token }) });
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(/key other than/) });
    const none = await userinfo({ authorization: `DPoP ${t.access_token}` });
    expect(none.statusCode).toBe(401);
    expect(none.json().error).toBe('invalid_dpop_proof');
    expect(String(none.headers['www-authenticate'])).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  it('refuses a replayed proof', async () => {
    const t = await codeTokens('web', key);
    const headers = { authorization: `DPoP ${t.access_token}`, dpop: await makeProof(key, { htm: 'GET', htu: USERINFO_URL, accessToken: t.access_token }) };
    expect((await userinfo(headers)).statusCode).toBe(200);
    const again = await userinfo(headers);
    expect(again.statusCode).toBe(401);
    expect(again.json().error_description).toMatch(/jti/);
  });

  it('refuses an unbound token sent with the DPoP scheme (invalid_token, DPoP challenge)', async () => {
    const t = await codeTokens('web', undefined);
    const r = await userinfo({ authorization: `DPoP ${t.access_token}`, dpop: await makeProof(key, { htm: 'GET', htu: USERINFO_URL, accessToken: t.access_token }) });
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toBe('invalid_token');
    expect(String(r.headers['www-authenticate'])).toMatch(/^DPoP error="invalid_token"/);
  });

  it('asks for a nonce with 401 use_dpop_nonce when nonces are required (§9)', async () => {
    const n = await startTestServer({ clients: clients(), env: { DPOP_NONCE_REQUIRED: 'true' }, db: s.ctx.db });
    try {
      const t = await codeTokens('web', undefined);
      const bound = await token(
        n,
        { grant_type: 'refresh_token', refresh_token: t.refresh_token },
        { authorization: basic('web', SECRETS.web), dpop: await makeProof(key, { htu: TOKEN_URL, nonce: currentNonce(n.ctx) }) },
      );
      expect(bound.statusCode, bound.body).toBe(200);
      const at = bound.json().access_token as string;
      const r = await userinfo({ authorization: `DPoP ${at}`, dpop: await makeProof(key, { htm: 'GET', htu: USERINFO_URL, accessToken: at }) }, 'GET', n);
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toBe('use_dpop_nonce');
      expect(String(r.headers['www-authenticate'])).toMatch(/^DPoP error="use_dpop_nonce"/);
      const nonce = String(r.headers['dpop-nonce']);
      const ok = await userinfo({ authorization: `DPoP ${at}`, dpop: await makeProof(key, { htm: 'GET', htu: USERINFO_URL, accessToken: at, nonce }) }, 'GET', n);
      expect(ok.statusCode, ok.body).toBe(200);
    } finally {
      await n.close();
    }
  });
});

describe('DPoP: introspection, discovery, CORS', () => {
  it('introspection returns cnf and token_type DPoP for a bound token, token_type Bearer without cnf otherwise (§6.2)', async () => {
    const bound = (await ccWithProof(await ccProof())).json().access_token as string;
    const plain = (await token(s, CC, { authorization: SERVICE })).json().access_token as string;
    const introspect = (t: string) =>
      s.app.inject({ method: 'POST', url: '/introspect', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('web', SECRETS.web) }, payload: `token=${t}` });
    expect((await introspect(bound)).json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
    const p = (await introspect(plain)).json();
    expect(p).toMatchObject({ active: true, token_type: 'Bearer' });
    expect(p.cnf).toBeUndefined();
  });

  it('lets browser apps send the DPoP header and read DPoP-Nonce and WWW-Authenticate', async () => {
    const origin = 'http://localhost:5173'; // the spa client's redirect URI origin
    for (const url of ['/token', '/userinfo']) {
      const pre = await s.app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'dpop, content-type' } });
      expect(pre.statusCode).toBe(204);
      expect(String(pre.headers['access-control-allow-headers'])).toMatch(/\bDPoP\b/);
    }
    const r = await token(s, { grant_type: 'client_credentials', client_id: 'spa' }, { origin });
    expect(String(r.headers['access-control-expose-headers'])).toMatch(/DPoP-Nonce/);
  });
});

describe('DPoP at /par (section 10.1)', () => {
  const push = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    s.app.inject({
      method: 'POST',
      url: '/par',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('web', SECRETS.web), ...headers },
      payload: new URLSearchParams({ response_type: 'code', redirect_uri: 'http://127.0.0.1:8080/callback', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...body }).toString(),
    });
  const PAR_URL = () => `${s.issuer}/par`;

  it('accepts a proof, refuses a bad one (invalid_dpop_proof) and a dpop_jkt of another key', async () => {
    expect((await push({}, { dpop: await makeProof(key, { htu: PAR_URL() }) })).statusCode).toBe(201);
    expectRefused(await push({}, { dpop: await makeProof(key, { htu: TOKEN_URL }) }), 'invalid_dpop_proof', /htu/);
    const other = await proofKey('ES256');
    expectRefused(await push({ dpop_jkt: other.jkt }, { dpop: await makeProof(key, { htu: PAR_URL() }) }), 'invalid_dpop_proof', /dpop_jkt/);
    expect((await push({ dpop_jkt: key.jkt }, { dpop: await makeProof(key, { htu: PAR_URL() }) })).statusCode).toBe(201);
  });

  it('refuses a dpop_jkt that is not a thumbprint (invalid_request)', async () => {
    expectRefused(await push({ dpop_jkt: 'not-a-thumbprint' }), 'invalid_request', /dpop_jkt/);
  });
});

describe('DPoP proof jti store', () => {
  it('takes over the row of an expired proof, and refuses a live one', async () => {
    const past = new Date(Date.now() - 1000);
    const later = new Date(Date.now() + 60_000);
    expect(await s.ctx.repos.dpopProofs.rememberJti('jkt-x', 'jti-1', past)).toBe(true);
    expect(await s.ctx.repos.dpopProofs.rememberJti('jkt-x', 'jti-1', later)).toBe(true);
    expect(await s.ctx.repos.dpopProofs.rememberJti('jkt-x', 'jti-1', later)).toBe(false);
    // the same jti under another key is another proof
    expect(await s.ctx.repos.dpopProofs.rememberJti('jkt-y', 'jti-1', later)).toBe(true);
  });
});
