// Resource owner password credentials grant (RFC 6749 §4.3) driven with openid-client.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_CREDENTIALS, LOCKED } from '../../src/oauth/grants/password.js';
import { ALICE, claimsOf, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { refusal } from './support/rp.js';

let s: TestServer;
let legacy: client.Configuration;
const insecure = { execute: [client.allowInsecureRequests] };
const PASSWORD = 'password';

beforeAll(async () => {
  s = await startTestServer({ listen: true });
  legacy = await client.discovery(new URL(s.issuer), 'legacy', undefined, client.ClientSecretPost(SECRETS.legacy), insecure);
});
afterAll(async () => s?.close());

const grant = (params: Record<string, string>, config = legacy) => client.genericGrantRequest(config, PASSWORD, params);

describe('password grant (RFC 6749 §4.3)', () => {
  it('is advertised in discovery', () => {
    expect(legacy.serverMetadata().grant_types_supported).toContain('password');
  });

  it('issues an access token tied to a grant, an ID token with auth_time and a refresh token', async () => {
    const before = Math.floor(Date.now() / 1000);
    const t = await grant({ username: ALICE.username, password: ALICE.password, scope: 'openid profile offline_access' });
    expect(t.token_type).toBe('bearer');
    expect(t.scope).toBe('openid profile offline_access');
    expect(typeof t.refresh_token).toBe('string');
    const jwks = createRemoteJWKSet(new URL(legacy.serverMetadata().jwks_uri!));
    const at = await jwtVerify(t.access_token, jwks, { issuer: s.issuer, typ: 'at+jwt' });
    expect(at.payload).toMatchObject({ sub: ALICE.sub, client_id: 'legacy', scope: 'openid profile offline_access' });
    expect(typeof at.payload.grant_id).toBe('string');
    // openid-client checks the ID token (iss, aud, exp, iat, sub) and exposes its claims
    const id = t.claims()!;
    expect(id.sub).toBe(ALICE.sub);
    expect(id.aud).toBe('legacy');
    expect(id.auth_time).toBeGreaterThanOrEqual(before);
    expect(id.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    // the tokens work: userinfo answers for Alice, the refresh token refreshes
    const info = await client.fetchUserInfo(legacy, t.access_token, ALICE.sub);
    expect(info.name).toBe('Alice Example');
    const refreshed = await client.refreshTokenGrant(legacy, t.refresh_token!);
    expect(claimsOf(refreshed.access_token).sub).toBe(ALICE.sub);
    expect(refreshed.claims()!.auth_time).toBe(id.auth_time);
  });

  it('uses the registered scope when none is requested', async () => {
    const t = await grant({ username: ALICE.username, password: ALICE.password });
    expect(t.scope).toBe('openid profile email offline_access');
  });

  it('gives no ID token without openid', async () => {
    const t = await grant({ username: ALICE.username, password: ALICE.password, scope: 'profile' });
    expect(t.id_token).toBeUndefined();
    expect(claimsOf(t.access_token).scope).toBe('profile');
  });

  it('refuses a wrong password and an unknown username with the same invalid_grant', async () => {
    const wrong = await refusal(grant({ username: ALICE.username, password: 'not-her-password' }));
    const unknown = await refusal(grant({ username: 'nobody-here', password: ALICE.password }));
    expect(wrong).toEqual({ status: 400, error: 'invalid_grant', error_description: INVALID_CREDENTIALS });
    // nothing says which part was wrong
    expect(unknown).toEqual(wrong);
  });

  it('counts failures with the login page lockout and refuses a locked account without telling whether it exists', async () => {
    const victim = 'bob-locked';
    await s.ctx.repos.users.upsert({ username: victim, password_hash: (await s.ctx.repos.users.findByUsername(ALICE.username))!.password_hash, claims: {} });
    await refusal(grant({ username: victim, password: 'guess-1' }));
    await refusal(grant({ username: victim, password: 'guess-2' }));
    // the same counters the login page uses (src/authentication/credentials.ts), by username and address
    expect((await s.ctx.repos.loginAttempts.state(victim, '127.0.0.1', s.ctx.env.LOGIN_LOCK_SECONDS)).pair.failures).toBe(2);

    await s.ctx.repos.loginAttempts.lock(victim, '127.0.0.1', 'pair', 60);
    // even the right password is refused while locked
    const locked = await refusal(grant({ username: victim, password: ALICE.password }));
    expect(locked).toEqual({ status: 400, error: 'invalid_grant', error_description: LOCKED });
    // an unknown username locks and answers the same way
    const ghost = 'ghost-user';
    await refusal(grant({ username: ghost, password: 'x' }));
    await s.ctx.repos.loginAttempts.lock(ghost, '127.0.0.1', 'pair', 60);
    expect(await refusal(grant({ username: ghost, password: 'x' }))).toEqual(locked);
  });

  it('refuses a missing username or password with invalid_request', async () => {
    const noUser = await refusal(grant({ password: ALICE.password }));
    expect(noUser).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(noUser.error_description).toContain('username');
    const noPassword = await refusal(grant({ username: ALICE.username }));
    expect(noPassword).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(noPassword.error_description).toContain('password');
  });

  it('refuses a scope the client did not register with invalid_scope', async () => {
    const r = await refusal(grant({ username: ALICE.username, password: ALICE.password, scope: 'openid phone' }));
    expect(r).toMatchObject({ status: 400, error: 'invalid_scope' });
    expect(r.error_description).toContain('phone');
  });

  it('refuses a client that did not register password with unauthorized_client', async () => {
    const web = await client.discovery(new URL(s.issuer), 'web', undefined, client.ClientSecretBasic(SECRETS.web), insecure);
    const r = await refusal(grant({ username: ALICE.username, password: ALICE.password }, web));
    expect(r).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('refuses a wrong client secret with 401 invalid_client before looking at the password', async () => {
    const wrong = await client.discovery(new URL(s.issuer), 'legacy', undefined, client.ClientSecretPost(`${SECRETS.legacy}x`), insecure);
    const r = await refusal(grant({ username: ALICE.username, password: ALICE.password }, wrong));
    expect(r).toMatchObject({ status: 401, error: 'invalid_client' });
  });
});
