// Client credentials grant (RFC 6749 §4.4) driven with openid-client against a listening server.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, claimsOf, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { refusal } from './support/rp.js';

let s: TestServer;
let service: client.Configuration;
const insecure = { execute: [client.allowInsecureRequests] };

beforeAll(async () => {
  s = await startTestServer({ listen: true });
  service = await client.discovery(new URL(s.issuer), 'service', undefined, client.ClientSecretBasic(SECRETS.service), insecure);
});
afterAll(async () => s?.close());

describe('client_credentials (RFC 6749 §4.4)', () => {
  it('issues a signed RFC 9068 access token with every registered scope when none is requested, and no refresh token', async () => {
    const t = await client.clientCredentialsGrant(service);
    expect(t.token_type).toBe('bearer');
    expect(t.refresh_token).toBeUndefined();
    expect(t.expires_in).toBe(3600);
    expect(t.scope).toBe('invoices:read invoices:write');
    const jwks = createRemoteJWKSet(new URL(service.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(t.access_token, jwks, { issuer: s.issuer, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: 'service', client_id: 'service', scope: 'invoices:read invoices:write' });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(3600);
    // the client's default audience when no resource is requested
    expect(payload.aud).toEqual(['https://api.example.com', 'https://other.example.com']);
    // no user is involved: nothing ties the token to a grant
    expect(payload.grant_id).toBeUndefined();
  });

  it('narrows to a requested subset of the registered scope', async () => {
    const t = await client.clientCredentialsGrant(service, { scope: 'invoices:read' });
    expect(t.scope).toBe('invoices:read');
    expect(claimsOf(t.access_token).scope).toBe('invoices:read');
  });

  it('refuses a scope the client did not register with invalid_scope', async () => {
    const r = await refusal(client.clientCredentialsGrant(service, { scope: 'invoices:read payroll:read' }));
    expect(r).toMatchObject({ status: 400, error: 'invalid_scope' });
    expect(r.error_description).toContain('payroll:read');
  });

  it('sets aud to a registered resource indicator (RFC 8707), and accepts audience as its synonym', async () => {
    const t = await client.clientCredentialsGrant(service, { resource: 'https://api.example.com' });
    expect(claimsOf(t.access_token).aud).toBe('https://api.example.com');
    const a = await client.clientCredentialsGrant(service, { audience: 'https://other.example.com' });
    expect(claimsOf(a.access_token).aud).toBe('https://other.example.com');
    const both = new URLSearchParams([
      ['resource', 'https://api.example.com'],
      ['resource', 'https://other.example.com'],
    ]);
    const b = await client.clientCredentialsGrant(service, both);
    expect(claimsOf(b.access_token).aud).toEqual(['https://api.example.com', 'https://other.example.com']);
  });

  it('refuses a resource the client may not use with invalid_target (RFC 8707 §2)', async () => {
    const r = await refusal(client.clientCredentialsGrant(service, { resource: 'https://evil.example.com' }));
    expect(r).toMatchObject({ status: 400, error: 'invalid_target' });
    const f = await refusal(client.clientCredentialsGrant(service, { resource: 'https://api.example.com#frag' }));
    expect(f.error).toBe('invalid_target');
  });

  it('refuses a wrong secret with 401 invalid_client', async () => {
    const wrong = await client.discovery(new URL(s.issuer), 'service', undefined, client.ClientSecretBasic(`${SECRETS.service}x`), insecure);
    const r = await refusal(client.clientCredentialsGrant(wrong));
    expect(r).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses the registered client with another authentication method (client_secret_post) with invalid_client', async () => {
    const post = await client.discovery(new URL(s.issuer), 'service', undefined, client.ClientSecretPost(SECRETS.service), insecure);
    const r = await refusal(client.clientCredentialsGrant(post));
    expect(r).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses a client that did not register client_credentials with unauthorized_client', async () => {
    const legacy = await client.discovery(new URL(s.issuer), 'legacy', undefined, client.ClientSecretPost(SECRETS.legacy), insecure);
    const r = await refusal(client.clientCredentialsGrant(legacy));
    expect(r).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('refuses a public client: it has no credentials to present (§4.4)', async () => {
    // the registry never registers a public client for client_credentials (test/config/clients.test.ts),
    // so tv is refused as unregistered; test/client-credentials.test.ts shows the grant refusing one that is
    const tv = await client.discovery(new URL(s.issuer), 'tv', undefined, client.None(), insecure);
    const r = await refusal(client.clientCredentialsGrant(tv));
    expect(r).toEqual({ status: 400, error: 'unauthorized_client', error_description: 'client is not registered for grant_type client_credentials' });
  });

  it('answers with Cache-Control: no-store (RFC 6749 §5.1)', async () => {
    const res = await fetch(`${s.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
  });

  it('issues a token that introspection reports active for the client itself', async () => {
    const t = await client.clientCredentialsGrant(service, { scope: 'invoices:write' });
    const i = await client.tokenIntrospection(service, t.access_token);
    expect(i).toMatchObject({ active: true, client_id: 'service', sub: 'service', scope: 'invoices:write', token_type: 'Bearer' });
  });
});
