// Discovery (issue 2 point 5): /.well-known/openid-configuration (OpenID Connect Discovery 1.0
// §4) and /.well-known/oauth-authorization-server (RFC 8414 §3) describe the same server, every
// URL is built from ISSUER, and everything advertised works: each endpoint answers, each grant
// type is known to /token, each ID token algorithm has a published key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, SECRETS, startTestServer, type TestServer } from '../support/harness.js';

const ISSUER = 'https://login.example.org';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

let s: TestServer;
let meta: Record<string, unknown>;
beforeAll(async () => {
  s = await startTestServer({ env: { ISSUER } });
  meta = (await s.app.inject('/.well-known/openid-configuration')).json();
});
afterAll(async () => s?.close());

/** The path of an advertised URL, which must sit under the issuer. */
const pathOf = (url: unknown) => new URL(String(url)).pathname;

describe('discovery', () => {
  it('serves the same metadata at both well-known URIs, with the issuer of ISSUER', async () => {
    const oidc = await s.app.inject('/.well-known/openid-configuration');
    const rfc8414 = await s.app.inject('/.well-known/oauth-authorization-server');
    expect(oidc.statusCode).toBe(200);
    expect(rfc8414.statusCode).toBe(200);
    expect(rfc8414.headers['content-type']).toMatch(/^application\/json/);
    expect(rfc8414.json()).toEqual(oidc.json());
    expect(meta.issuer).toBe(ISSUER);
    // RFC 8414 §2 REQUIRED members, OIDC Discovery §3 REQUIRED members
    for (const m of ['issuer', 'jwks_uri', 'response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported', 'authorization_endpoint', 'token_endpoint'])
      expect(meta, m).toHaveProperty(m);
  });

  it('advertises the languages of the pages (ui_locales_supported, OpenID Connect Discovery §3)', () => {
    expect(meta.ui_locales_supported).toEqual(['en', 'fr']);
  });

  it('builds every endpoint URL from ISSUER', () => {
    const urls = Object.entries(meta).filter(([k]) => k.endsWith('_endpoint') || k.endsWith('_uri'));
    expect(urls.map(([k]) => k)).toEqual(
      expect.arrayContaining(['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'revocation_endpoint', 'introspection_endpoint', 'device_authorization_endpoint', 'end_session_endpoint', 'pushed_authorization_request_endpoint']),
    );
    for (const [k, v] of urls) expect(String(v), k).toMatch(new RegExp(`^${ISSUER.replace(/\./g, '\\.')}/[^/]`));
    // and no other member carries a URL of another origin (a localhost default leaking through)
    expect(JSON.stringify(meta)).not.toMatch(/localhost|127\.0\.0\.1/);
  });

  it('advertises only endpoints that answer', async () => {
    const endpoints = Object.entries(meta).filter(([k]) => k.endsWith('_endpoint') || k === 'jwks_uri');
    for (const [k, url] of endpoints) {
      const answers = await Promise.all(['GET', 'POST'].map((method) => s.app.inject({ method: method as 'GET' | 'POST', url: pathOf(url) })));
      expect(
        answers.some((r) => r.statusCode !== 404),
        `${k} ${pathOf(url)}: ${answers.map((r) => r.statusCode).join(', ')}`,
      ).toBe(true);
    }
  });

  it('advertises only grant types /token knows (each refused for a client not registered for it, never as unsupported)', async () => {
    const grants = meta.grant_types_supported as string[];
    expect(grants).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code']));
    const token = (grant_type: string) =>
      s.app.inject({ method: 'POST', url: pathOf(meta.token_endpoint), headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type }).toString() });
    // the control: a grant type nobody implements
    expect((await token('urn:example:made-up')).json().error).toBe('unsupported_grant_type');
    // implicit is served at the authorization endpoint, not /token (OIDC Core §3.2)
    for (const g of grants.filter((g) => g !== 'implicit')) {
      const r = await token(g);
      expect(r.json().error, g).not.toBe('unsupported_grant_type');
    }
  });

  it('publishes at jwks_uri a key for the default ID token algorithm and every one a client uses, public parts only, with kid, alg and use', async () => {
    const r = await s.app.inject(pathOf(meta.jwks_uri));
    expect(r.statusCode).toBe(200);
    const { keys } = r.json() as { keys: Record<string, string>[] };
    expect(new Set(keys.map((k) => k.kid)).size).toBe(keys.length);
    for (const k of keys) {
      expect(k).toMatchObject({ kid: expect.any(String), alg: expect.stringMatching(/^(RS256|PS256|ES256|EdDSA)$/), use: 'sig' });
      for (const m of PRIVATE_MEMBERS) expect(k, `${k.kid} has ${m}`).not.toHaveProperty(m);
    }
    // every advertised algorithm signs the ID tokens of a client registered with it: test/signing-algs
    expect(meta.id_token_signing_alg_values_supported).toContain('RS256');
    const inUse = (await s.ctx.repos.clients.findAll()).map((c) => c.id_token_signed_response_alg);
    for (const alg of ['RS256', ...inUse]) expect(keys.map((k) => k.alg), alg).toContain(alg);
  });

  it('advertises the DPoP proof algorithms, asymmetric only (RFC 9449 5.1; each is accepted: test/dpop)', () => {
    const algs = meta.dpop_signing_alg_values_supported as string[];
    expect(algs).toEqual(expect.arrayContaining(['ES256', 'RS256', 'PS256', 'EdDSA']));
    for (const alg of algs) expect(alg).toMatch(/^(ES|PS|RS)(256|384|512)$|^EdDSA$|^Ed25519$/);
  });
});
