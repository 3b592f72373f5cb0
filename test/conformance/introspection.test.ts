// Token introspection (RFC 7662) driven with openid-client against a listening server.
import { exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { ALICE, basic, claimsOf, defaultClients, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { refusal } from './support/rp.js';

let s: TestServer;
let legacy: client.Configuration;
let service: client.Configuration;
/** a resource server that authenticates with private_key_jwt (RFC 7523) */
let rs: client.Configuration;
const insecure = { execute: [client.allowInsecureRequests] };

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const rsClient = clientSchema.parse({ client_id: 'rs', grant_types: ['client_credentials'], scope: 'introspect', jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] } });
  s = await startTestServer({ listen: true, clients: [...defaultClients(), rsClient] });
  rs = await client.discovery(new URL(s.issuer), 'rs', undefined, client.PrivateKeyJwt(privateKey), insecure);
  legacy = await client.discovery(new URL(s.issuer), 'legacy', undefined, client.ClientSecretPost(SECRETS.legacy), insecure);
  service = await client.discovery(new URL(s.issuer), 'service', undefined, client.ClientSecretBasic(SECRETS.service), insecure);
});
afterAll(async () => s?.close());

const signIn = (scope = 'openid profile offline_access') => client.genericGrantRequest(legacy, 'password', { username: ALICE.username, password: ALICE.password, scope });

/** The raw answer, to check it is exactly {"active":false} and not cached. */
async function introspectRaw(token: string, auth = basic('service', SECRETS.service)) {
  const res = await fetch(`${s.issuer}/introspect`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ token }),
  });
  return { status: res.status, cacheControl: res.headers.get('cache-control'), contentType: res.headers.get('content-type'), body: await res.text() };
}

describe('introspection (RFC 7662)', () => {
  it('is advertised in discovery with confidential client authentication methods only', () => {
    const m = service.serverMetadata();
    expect(m.introspection_endpoint).toBe(`${s.issuer}/introspect`);
    expect(m.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    // RFC 8414 §2: required once private_key_jwt is listed
    expect(m.introspection_endpoint_auth_signing_alg_values_supported).toContain('ES256');
  });

  it("describes an active access token to a resource server (another client): active, scope, client_id, sub, aud, iss, exp, iat, token_type", async () => {
    const t = await signIn();
    const c = claimsOf(t.access_token);
    const i = await client.tokenIntrospection(service, t.access_token);
    expect(i).toEqual({
      active: true,
      scope: 'openid profile offline_access',
      client_id: 'legacy',
      sub: ALICE.sub,
      aud: c.aud,
      iss: s.issuer,
      exp: c.exp,
      iat: c.iat,
      token_type: 'Bearer',
      jti: c.jti,
    });
  });

  it('accepts a resource server authenticating with private_key_jwt', async () => {
    const t = await signIn('openid');
    expect(await client.tokenIntrospection(rs, t.access_token)).toMatchObject({ active: true, client_id: 'legacy', sub: ALICE.sub, scope: 'openid' });
    // and it never sees another client's refresh token
    expect(await client.tokenIntrospection(rs, t.refresh_token!)).toEqual({ active: false });
  });

  it('describes an active refresh token to the client it was issued to', async () => {
    const t = await signIn();
    const before = Math.floor(Date.now() / 1000);
    const i = await client.tokenIntrospection(legacy, t.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(i).toMatchObject({ active: true, scope: 'openid profile offline_access', client_id: 'legacy', sub: ALICE.sub, iss: s.issuer, token_type: 'refresh_token' });
    expect(i.exp).toBeGreaterThanOrEqual(before + 1_209_600 - 5);
    expect(i.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it("answers {\"active\":false} to another client asking about a refresh token", async () => {
    const t = await signIn();
    expect(await client.tokenIntrospection(service, t.refresh_token!)).toEqual({ active: false });
  });

  it('answers {"active":false} for a rotated refresh token, and for a revoked grant', async () => {
    const t = await signIn();
    const next = await client.refreshTokenGrant(legacy, t.refresh_token!);
    expect(await client.tokenIntrospection(legacy, t.refresh_token!)).toEqual({ active: false });
    expect(await client.tokenIntrospection(legacy, next.refresh_token!)).toMatchObject({ active: true });
    await client.tokenRevocation(legacy, next.refresh_token!);
    expect(await client.tokenIntrospection(legacy, next.refresh_token!)).toEqual({ active: false });
    expect(await client.tokenIntrospection(service, next.access_token)).toEqual({ active: false });
  });

  it('answers a revoked access token with exactly {"active":false}, and userinfo with 401', async () => {
    const t = await signIn();
    await client.tokenRevocation(legacy, t.access_token);
    const raw = await introspectRaw(t.access_token);
    expect(raw.status).toBe(200);
    expect(raw.body).toBe('{"active":false}');
    expect((await fetch(`${s.issuer}/userinfo`, { headers: { authorization: `Bearer ${t.access_token}` } })).status).toBe(401);
  });

  it('answers exactly {"active":false} to garbage, an ID token and a tampered token, never cached', async () => {
    const t = await signIn();
    const [h] = t.access_token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(t.access_token), scope: 'admin' })).toString('base64url')}.${t.access_token.split('.')[2]}`;
    for (const token of ['garbage', 'a.b.c', t.id_token!, tampered]) {
      const raw = await introspectRaw(token);
      expect(raw).toMatchObject({ status: 200, body: '{"active":false}', cacheControl: 'no-store' });
      expect(raw.contentType).toMatch(/^application\/json/);
    }
  });

  it('answers a client_credentials token, found with or without a hint', async () => {
    const cc = await client.clientCredentialsGrant(service, { resource: 'https://api.example.com' });
    for (const hint of [undefined, 'access_token', 'refresh_token', 'something_else']) {
      const i = await client.tokenIntrospection(legacy, cc.access_token, hint ? { token_type_hint: hint } : {});
      expect(i).toMatchObject({ active: true, client_id: 'service', sub: 'service', aud: 'https://api.example.com', token_type: 'Bearer' });
    }
  });

  it('refuses a public client (none) with 401 invalid_client: a client_id alone proves nothing (§2.1, §4)', async () => {
    const t = await signIn();
    const res = await fetch(`${s.issuer}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: 'tv', token: t.access_token }) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    const tv = await client.discovery(new URL(s.issuer), 'tv', undefined, client.None(), insecure);
    expect(await refusal(client.tokenIntrospection(tv, t.access_token))).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses a wrong secret or no authentication with 401 invalid_client', async () => {
    const t = await signIn();
    const wrong = await introspectRaw(t.access_token, basic('service', `${SECRETS.service}x`));
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error).toBe('invalid_client');
    const none = await fetch(`${s.issuer}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: t.access_token }) });
    expect(none.status).toBe(401);
  });

  it('refuses a request without token with invalid_request', async () => {
    const res = await fetch(`${s.issuer}/introspect`, { method: 'POST', headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });
});
