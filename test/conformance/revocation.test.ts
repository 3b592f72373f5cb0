// Token revocation (RFC 7009) driven with openid-client against a listening server.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAccessToken } from '../../src/oauth/tokens.js';
import { ALICE, basic, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { refusal } from './support/rp.js';

let s: TestServer;
let legacy: client.Configuration;
let service: client.Configuration;
const insecure = { execute: [client.allowInsecureRequests] };

beforeAll(async () => {
  s = await startTestServer({ listen: true });
  legacy = await client.discovery(new URL(s.issuer), 'legacy', undefined, client.ClientSecretPost(SECRETS.legacy), insecure);
  service = await client.discovery(new URL(s.issuer), 'service', undefined, client.ClientSecretBasic(SECRETS.service), insecure);
});
afterAll(async () => s?.close());

const signIn = () => client.genericGrantRequest(legacy, 'password', { username: ALICE.username, password: ALICE.password, scope: 'openid profile offline_access' });

/** userinfo's answer to an access token: 200, or 401 once it is revoked (RFC 6750 §3.1). */
async function userinfoStatus(accessToken: string): Promise<number> {
  const res = await fetch(`${s.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  return res.status;
}

describe('revocation (RFC 7009)', () => {
  it('is advertised in discovery with the client authentication methods it accepts', () => {
    const m = legacy.serverMetadata();
    expect(m.revocation_endpoint).toBe(`${s.issuer}/revoke`);
    expect(m.revocation_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']));
    // RFC 8414 §2: required once private_key_jwt is listed
    expect(m.revocation_endpoint_auth_signing_alg_values_supported).toContain('RS256');
  });

  it('revokes an access token: inactive at introspection, 401 at userinfo, refused by verifyAccessToken', async () => {
    const t = await signIn();
    expect(await userinfoStatus(t.access_token)).toBe(200);
    await client.tokenRevocation(legacy, t.access_token, { token_type_hint: 'access_token' });
    expect(await client.tokenIntrospection(service, t.access_token)).toEqual({ active: false });
    expect(await userinfoStatus(t.access_token)).toBe(401);
    expect(await verifyAccessToken(s.ctx, t.access_token)).toBeUndefined();
    // only that token: the refresh token of the same grant still works (§2.1 leaves it to the server)
    const refreshed = await client.refreshTokenGrant(legacy, t.refresh_token!);
    expect(await userinfoStatus(refreshed.access_token)).toBe(200);
  });

  it('revokes a refresh token and with it the whole grant, access tokens included', async () => {
    const t = await signIn();
    // rotate once, so the grant has two access tokens and a live successor refresh token
    const next = await client.refreshTokenGrant(legacy, t.refresh_token!);
    await client.tokenRevocation(legacy, next.refresh_token!, { token_type_hint: 'refresh_token' });
    expect((await refusal(client.refreshTokenGrant(legacy, next.refresh_token!))).error).toBe('invalid_grant');
    for (const at of [t.access_token, next.access_token]) {
      expect(await client.tokenIntrospection(service, at)).toEqual({ active: false });
      expect(await userinfoStatus(at)).toBe(401);
    }
    expect(await client.tokenIntrospection(legacy, next.refresh_token!)).toEqual({ active: false });
  });

  it('finds the token whatever the hint says, and ignores an unknown hint (§2.1, §2.2.1)', async () => {
    const a = await signIn();
    await client.tokenRevocation(legacy, a.access_token, { token_type_hint: 'refresh_token' });
    expect(await userinfoStatus(a.access_token)).toBe(401);
    const b = await signIn();
    await client.tokenRevocation(legacy, b.refresh_token!, { token_type_hint: 'access_token' });
    expect(await userinfoStatus(b.access_token)).toBe(401);
    const c = await signIn();
    await client.tokenRevocation(legacy, c.refresh_token!, { token_type_hint: 'id_token' });
    expect(await userinfoStatus(c.access_token)).toBe(401);
  });

  it("answers 200 to another client's tokens and revokes nothing (§2.1: only the client's own)", async () => {
    const t = await signIn();
    await client.tokenRevocation(service, t.access_token);
    await client.tokenRevocation(service, t.refresh_token!);
    expect(await userinfoStatus(t.access_token)).toBe(200);
    expect(await client.tokenIntrospection(legacy, t.refresh_token!)).toMatchObject({ active: true });
    const cc = await client.clientCredentialsGrant(service);
    await client.tokenRevocation(legacy, cc.access_token);
    expect(await client.tokenIntrospection(service, cc.access_token)).toMatchObject({ active: true });
  });

  it('revokes a client_credentials access token of the caller', async () => {
    const cc = await client.clientCredentialsGrant(service);
    await client.tokenRevocation(service, cc.access_token);
    expect(await client.tokenIntrospection(service, cc.access_token)).toEqual({ active: false });
  });

  it('answers 200 with an empty body to unknown and malformed tokens (§2.2)', async () => {
    for (const token of ['no-such-token', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.']) {
      const res = await fetch(`${s.issuer}/revoke`, {
        method: 'POST',
        headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    }
    await expect(client.tokenRevocation(legacy, 'still-no-such-token')).resolves.toBeUndefined();
  });

  it('requires client authentication: a wrong secret is 401 invalid_client (§2.1, RFC 6749 §5.2)', async () => {
    const t = await signIn();
    const wrong = await client.discovery(new URL(s.issuer), 'legacy', undefined, client.ClientSecretPost(`${SECRETS.legacy}x`), insecure);
    expect(await refusal(client.tokenRevocation(wrong, t.access_token))).toMatchObject({ status: 401, error: 'invalid_client' });
    const res = await fetch(`${s.issuer}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: t.access_token }) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    expect(await userinfoStatus(t.access_token)).toBe(200);
  });

  it('refuses a request without token with invalid_request (§2.2.1)', async () => {
    const res = await fetch(`${s.issuer}/revoke`, {
      method: 'POST',
      headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });
});
