// The authorization_code grant at /token (RFC 6749 §4.1.3, RFC 7636, OIDC Core §3.1.3), with
// codes written the way /authorize stores them.
import { createHash } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { ALICE, basic, claimsOf, defaultClients, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { issueCode, RFC6749_DESCRIPTION, tokenRequest, userinfo } from './fixtures.js';

const CODE_ONLY_SECRET = 'code-only-secret-0123456789-0123456789-01';
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    clients: [
      ...defaultClients(),
      clientSchema.parse({
        client_id: 'code-only',
        client_secret: CODE_ONLY_SECRET,
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code'],
        scope: 'openid profile offline_access',
        audience: ['https://api.example.com'],
      }),
    ],
  });
});
afterAll(async () => s?.close());

const web = basic('web', SECRETS.web);
const redeem = (code: string, verifier: string | null | undefined, extra: Record<string, string> = {}, auth: string | undefined = web) =>
  tokenRequest(s, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier ?? undefined, ...extra }, auth);

function expectError(r: { statusCode: number; json: () => { error: string; error_description: string } }, status: number, error: string) {
  expect(r.statusCode).toBe(status);
  const j = r.json();
  expect(j.error).toBe(error);
  expect(j.error_description).toMatch(RFC6749_DESCRIPTION);
  return j.error_description;
}

describe('authorization_code: a good redemption', () => {
  it('answers access token, ID token, refresh token and scope, never cached', async () => {
    const c = await issueCode(s.ctx);
    const r = await redeem(c.code, c.verifier);
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers.pragma).toBe('no-cache');
    const j = r.json();
    expect(j).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'openid profile email offline_access' });
    expect(typeof j.refresh_token).toBe('string');
    const at = claimsOf(j.access_token);
    expect(at).toMatchObject({ iss: s.issuer, sub: ALICE.sub, client_id: 'web', aud: 'web', grant_id: c.grant_id, scope: 'openid profile email offline_access' });
  });

  it('issues an RFC 9068 access token: typ at+jwt, RS256, iss, sub, aud, client_id, scope, jti, iat, exp', async () => {
    const c = await issueCode(s.ctx, { scope: 'openid email' });
    const j = (await redeem(c.code, c.verifier)).json();
    const jwks = createLocalJWKSet(await s.ctx.keystore.jwks());
    // RFC 9068 §2.1: typ at+jwt; §2.2: the required claims
    const { payload, protectedHeader } = await jwtVerify(j.access_token, jwks, {
      issuer: s.issuer,
      audience: 'web',
      typ: 'at+jwt',
      requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: ALICE.sub, client_id: 'web', scope: 'openid email' });
    expect(payload.exp! - payload.iat!).toBe(s.ctx.env.ACCESS_TOKEN_TTL);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
  });

  it('makes refresh tokens and access token ids of at least 128 random bits, never twice the same', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const c = await issueCode(s.ctx);
      const j = (await redeem(c.code, c.verifier)).json();
      const { jti } = claimsOf(j.access_token) as { jti: string };
      // base64url: 22 characters carry 128 bits
      for (const value of [j.refresh_token, jti]) {
        expect(value).toMatch(/^[\w-]{22,}$/);
        expect(seen.has(value)).toBe(false);
        seen.add(value);
      }
    }
  });

  it('signs an ID token with iss, sub, aud, nonce, auth_time and at_hash (OIDC Core 3.1.3.6)', async () => {
    const c = await issueCode(s.ctx, { nonce: 'nonce-abc' });
    const j = (await redeem(c.code, c.verifier)).json();
    const jwks = createLocalJWKSet(await s.ctx.keystore.jwks());
    const { payload, protectedHeader } = await jwtVerify(j.id_token, jwks, { issuer: s.issuer, audience: 'web', typ: 'JWT', requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time'] });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: ALICE.sub, nonce: 'nonce-abc', auth_time: Math.floor(c.auth_time.getTime() / 1000), azp: 'web' });
    const digest = createHash('sha256').update(j.access_token).digest();
    expect(payload.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
    expect(payload.c_hash).toBeUndefined();
  });

  it('keeps the scope claims out of the ID token (they come from userinfo) but adds those the claims parameter asked for', async () => {
    const c = await issueCode(s.ctx, { claims: { id_token: { email: { essential: true } }, userinfo: { phone_number: null } } });
    const id = claimsOf((await redeem(c.code, c.verifier)).json().id_token);
    expect(id.email).toBe('alice@example.com');
    expect(id.name).toBeUndefined();
    expect(id.phone_number).toBeUndefined();
  });

  it('leaves the nonce out when the authorization request had none', async () => {
    const c = await issueCode(s.ctx, { nonce: null });
    const id = claimsOf((await redeem(c.code, c.verifier)).json().id_token);
    expect(id.nonce).toBeUndefined();
    expect(typeof id.auth_time).toBe('number');
  });

  it('issues no ID token without the openid scope', async () => {
    const c = await issueCode(s.ctx, { scope: 'profile offline_access' });
    const j = (await redeem(c.code, c.verifier)).json();
    expect(j.id_token).toBeUndefined();
    expect(j.access_token).toBeTruthy();
  });

  it('issues a refresh token to a client that registered the refresh_token grant, also without offline_access', async () => {
    const c = await issueCode(s.ctx, { scope: 'openid email' });
    const j = (await redeem(c.code, c.verifier)).json();
    expect(j.refresh_token).toMatch(/^[\w-]{43}$/);
    expect((await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: j.refresh_token }, web)).statusCode).toBe(200);
  });

  it('issues no refresh token to a client that did not register the refresh_token grant', async () => {
    const c = await issueCode(s.ctx, { client_id: 'code-only', scope: 'openid offline_access' });
    const r = await redeem(c.code, c.verifier, {}, basic('code-only', CODE_ONLY_SECRET));
    expect(r.statusCode).toBe(200);
    expect(r.json().refresh_token).toBeUndefined();
    expect(claimsOf(r.json().access_token).aud).toBe('https://api.example.com');
  });

  it('lets a public client redeem with PKCE and no secret', async () => {
    const c = await issueCode(s.ctx, { client_id: 'spa', redirect_uri: 'http://localhost:5173/cb' });
    const r = await tokenRequest(s, { grant_type: 'authorization_code', code: c.code, redirect_uri: 'http://localhost:5173/cb', code_verifier: c.verifier!, client_id: 'spa' });
    expect(r.statusCode).toBe(200);
    expect(claimsOf(r.json().id_token).aud).toBe('spa');
  });

  it('accepts a code without a challenge from a confidential client when no verifier is sent', async () => {
    const c = await issueCode(s.ctx, { verifier: null });
    expect((await redeem(c.code, undefined)).statusCode).toBe(200);
  });

  it('may leave redirect_uri out when the client has exactly that one redirect URI registered', async () => {
    const c = await issueCode(s.ctx, { client_id: 'code-only', scope: 'openid' });
    const r = await tokenRequest(s, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier! }, basic('code-only', CODE_ONLY_SECRET));
    expect(r.statusCode).toBe(200);
  });

  it('sets the audience to a registered resource indicator (RFC 8707)', async () => {
    const c = await issueCode(s.ctx, { client_id: 'code-only', scope: 'openid' });
    const r = await redeem(c.code, c.verifier, { resource: 'https://api.example.com' }, basic('code-only', CODE_ONLY_SECRET));
    expect(claimsOf(r.json().access_token).aud).toBe('https://api.example.com');
  });
});

describe('authorization_code: refusals', () => {
  it('refuses a second use and revokes every token the first one issued (RFC 6749 4.1.2)', async () => {
    const c = await issueCode(s.ctx);
    const first = (await redeem(c.code, c.verifier)).json();
    expect((await userinfo(s, first.access_token)).statusCode).toBe(200);

    expect(expectError(await redeem(c.code, c.verifier), 400, 'invalid_grant')).toMatch(/already used/);
    // the access token (a JWT) and the refresh token of the first redemption stop working
    expect((await userinfo(s, first.access_token)).statusCode).toBe(401);
    expectError(await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: first.refresh_token }, web), 400, 'invalid_grant');
    const audit = await s.ctx.repos.audit.recent(10);
    expect(audit.find((e) => e.event === 'authorization_code_replayed' && (e.detail as { grant_id?: string }).grant_id === c.grant_id)).toBeTruthy();
  });

  it('refuses a code issued to another client, and leaves it for the client it belongs to', async () => {
    const c = await issueCode(s.ctx, { client_id: 'code-only', scope: 'openid' });
    expect(expectError(await redeem(c.code, c.verifier), 400, 'invalid_grant')).toMatch(/another client/);
    expect((await redeem(c.code, c.verifier, {}, basic('code-only', CODE_ONLY_SECRET))).statusCode).toBe(200);
  });

  it('refuses an expired code', async () => {
    const c = await issueCode(s.ctx, { code_ttl: -1 });
    expect(expectError(await redeem(c.code, c.verifier), 400, 'invalid_grant')).toMatch(/expired/);
  });

  it('refuses an unknown code', async () => {
    expectError(await redeem('no-such-code', undefined), 400, 'invalid_grant');
  });

  it('refuses a request without code', async () => {
    expectError(await tokenRequest(s, { grant_type: 'authorization_code', redirect_uri: REDIRECT }, web), 400, 'invalid_request');
  });

  it('refuses a redirect_uri other than the one of the authorization request (RFC 6749 4.1.3)', async () => {
    const c = await issueCode(s.ctx);
    expect(expectError(await redeem(c.code, c.verifier, { redirect_uri: 'https://app.example.com/cb' }), 400, 'invalid_grant')).toMatch(/redirect_uri/);
  });

  it('requires redirect_uri when the client registered more than one', async () => {
    const c = await issueCode(s.ctx);
    const r = await tokenRequest(s, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier! }, web);
    expect(expectError(r, 400, 'invalid_request')).toMatch(/redirect_uri/);
  });

  it('refuses a code with a challenge when no code_verifier is sent (RFC 7636 4.6)', async () => {
    const c = await issueCode(s.ctx);
    expect(expectError(await redeem(c.code, undefined), 400, 'invalid_grant')).toMatch(/code_verifier/);
  });

  it('refuses a code_verifier that does not match the challenge', async () => {
    const c = await issueCode(s.ctx);
    expectError(await redeem(c.code, 'x'.repeat(43)), 400, 'invalid_grant');
  });

  it('refuses a code_verifier for a code issued without a challenge (PKCE downgrade, RFC 9700 2.1.1)', async () => {
    const c = await issueCode(s.ctx, { verifier: null });
    expect(expectError(await redeem(c.code, 'y'.repeat(43)), 400, 'invalid_grant')).toMatch(/no code_challenge/);
  });

  it('refuses a malformed code_verifier (RFC 7636 4.1)', async () => {
    const c = await issueCode(s.ctx);
    expectError(await redeem(c.code, 'short'), 400, 'invalid_request');
  });

  it('refuses a code whose grant was revoked', async () => {
    const c = await issueCode(s.ctx);
    await s.ctx.repos.grants.revokeGrant(c.grant_id);
    expect(expectError(await redeem(c.code, c.verifier), 400, 'invalid_grant')).toMatch(/revoked/);
  });

  it('refuses a client that did not register authorization_code (unauthorized_client)', async () => {
    const c = await issueCode(s.ctx, { client_id: 'service' });
    expectError(await redeem(c.code, c.verifier, {}, basic('service', SECRETS.service)), 400, 'unauthorized_client');
  });

  it('refuses a resource the client may not ask for (RFC 8707 invalid_target)', async () => {
    const c = await issueCode(s.ctx);
    expectError(await redeem(c.code, c.verifier, { resource: 'https://elsewhere.example.com' }), 400, 'invalid_target');
  });

  it('answers 401 invalid_client for a wrong secret, before looking at the code', async () => {
    const c = await issueCode(s.ctx);
    const r = await redeem(c.code, c.verifier, {}, basic('web', 'wrong-secret-wrong-secret-wrong-secret'));
    expectError(r, 401, 'invalid_client');
    expect((await redeem(c.code, c.verifier)).statusCode).toBe(200);
  });
});

describe('authorization_code: one code, many redemptions at once', () => {
  it('gives exactly one of 20 concurrent redemptions a token', async () => {
    const c = await issueCode(s.ctx);
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(c.code, c.verifier)));
    const ok = results.filter((r) => r.statusCode === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((x) => x.statusCode !== 200)) expect(r.json().error).toBe('invalid_grant');
  });
});
