// The client registry refuses every unsafe or inconsistent entry with one line that names the
// file, the client and the field (issue 2, point 6).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry, parseRegistry } from '../../src/config/clients.js';
import { configRefusal } from './refusal.js';

const SECRET = 'a-secret-of-forty-characters-0123456789';

const web = (extra: Record<string, unknown> = {}) => ({
  client_id: 'web',
  client_secret: SECRET,
  redirect_uris: ['https://app.example.com/cb'],
  grant_types: ['authorization_code', 'refresh_token'],
  ...extra,
});

function parse(clients: unknown[], opts: { production?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  return parseRegistry(JSON.stringify({ clients }), 'clients.json', { production: opts.production ?? false, env: opts.env ?? {} });
}

const refusal = (clients: unknown[], opts: { production?: boolean; env?: NodeJS.ProcessEnv } = {}) => configRefusal(() => parse(clients, opts), 'the registry');

describe('client registry refusals', () => {
  it('refuses a client secret under 32 characters', () => {
    expect(refusal([web({ client_secret: 'x'.repeat(31) })])).toBe(
      'clients.json: clients[0].client_secret: must be at least 32 characters (use a long random value)',
    );
    expect(parse([web({ client_secret: 'x'.repeat(32) })])[0]!.client_secret).toBe('x'.repeat(32));
  });

  it('refuses the implicit grant without an implicit response type', () => {
    expect(
      refusal([web({ grant_types: ['authorization_code', 'implicit'], response_types: ['code'] })]),
    ).toBe('clients.json: clients[0].response_types: grant_types has implicit but response_types has no id_token or "id_token token"');
    // and the reverse: an implicit response type needs the implicit grant
    expect(refusal([web({ response_types: ['code', 'id_token'] })])).toBe(
      'clients.json: clients[0].grant_types: response_types has an implicit response type but grant_types lacks implicit',
    );
  });

  it('refuses require_signed_request_object or request_object_signing_alg without keys to verify request objects with', () => {
    expect(refusal([web({ require_signed_request_object: true })])).toBe(
      'clients.json: clients[0].require_signed_request_object: needs jwks or jwks_uri, the keys request objects are verified with',
    );
    expect(refusal([web({ request_object_signing_alg: 'ES256' })])).toBe(
      'clients.json: clients[0].request_object_signing_alg: needs jwks or jwks_uri, the keys request objects are verified with',
    );
    expect(refusal([web({ jwks_uri: 'https://app.example.com/jwks', request_object_signing_alg: 'none' })])).toMatch(/^clients\.json: clients\[0\]\.request_object_signing_alg: /);
    const c = parse([web({ jwks_uri: 'https://app.example.com/jwks', require_signed_request_object: true, request_object_signing_alg: 'PS256', require_pushed_authorization_requests: true })])[0]!;
    expect(c).toMatchObject({ require_signed_request_object: true, request_object_signing_alg: 'PS256', require_pushed_authorization_requests: true });
    expect(parse([web()])[0]).toMatchObject({ require_signed_request_object: false, require_pushed_authorization_requests: false });
  });

  it('refuses a public client that turns PKCE off, and keeps PKCE on for public clients', () => {
    const spa = { client_id: 'spa', redirect_uris: ['http://localhost:5173/cb'], token_endpoint_auth_method: 'none' };
    expect(refusal([{ ...spa, require_pkce: false }])).toBe(
      'clients.json: clients[0].require_pkce: cannot be false for a public client (token_endpoint_auth_method none)',
    );
    expect(parse([spa])[0]!.require_pkce).toBe(true);
    // a confidential client may turn it off
    expect(parse([web({ require_pkce: false })])[0]!.require_pkce).toBe(false);
  });

  it('refuses http redirect URIs other than loopback in production, and allows loopback', () => {
    const uris = ['https://app.example.com/cb', 'http://app.example.com/cb'];
    expect(refusal([web({ redirect_uris: uris })], { production: true })).toBe(
      'clients.json: clients[0].redirect_uris[1]: http is allowed only for loopback addresses in production (use https)',
    );
    expect(refusal([web({ post_logout_redirect_uris: ['http://app.example.com/'] })], { production: true })).toBe(
      'clients.json: clients[0].post_logout_redirect_uris[0]: http is allowed only for loopback addresses in production (use https)',
    );
    // URI schemes are case-insensitive (RFC 3986 §3.1): HTTP: is http too
    expect(refusal([web({ redirect_uris: ['HTTP://app.example.com/cb'] })], { production: true })).toBe(
      'clients.json: clients[0].redirect_uris[0]: http is allowed only for loopback addresses in production (use https)',
    );
    expect(refusal([web({ post_logout_redirect_uris: ['Http://app.example.com/'] })], { production: true })).toBe(
      'clients.json: clients[0].post_logout_redirect_uris[0]: http is allowed only for loopback addresses in production (use https)',
    );
    // RFC 8252 §7.3: native apps listen on loopback over http
    const loopback = ['http://127.0.0.1:8080/cb', 'http://localhost:8080/cb', 'http://[::1]:8080/cb', 'com.example.app:/oauth2redirect'];
    expect(parse([web({ redirect_uris: loopback })], { production: true })[0]!.redirect_uris).toEqual(loopback);
    // development accepts plain http anywhere
    expect(parse([web({ redirect_uris: uris })])[0]!.redirect_uris).toEqual(uris);
  });

  it('refuses a redirect URI with a fragment or that is not absolute, naming client and index', () => {
    const clients = [
      web({ client_id: 'a' }),
      web({ client_id: 'b' }),
      web({ client_id: 'c', redirect_uris: ['https://ok.example.com/cb', 'https://app.example.com/cb#frag'] }),
    ];
    expect(refusal(clients)).toBe('clients.json: clients[2].redirect_uris[1]: must be an absolute URL without a fragment');
    expect(refusal([web({ redirect_uris: ['/callback'] })])).toBe(
      'clients.json: clients[0].redirect_uris[0]: must be an absolute URL without a fragment',
    );
  });

  it('refuses redirect URIs whose scheme runs or reads content in the browser, in development too', () => {
    for (const uri of ['javascript:alert(document.cookie)', 'JavaScript://app.example.com/%0aalert(1)', 'data:text/html,<p>x</p>', 'file:///etc/passwd', 'vbscript:msgbox', 'blob:https://app.example.com/x'])
      expect(refusal([web({ redirect_uris: ['https://ok.example.com/cb', uri] })]), uri).toBe(
        'clients.json: clients[0].redirect_uris[1]: must not use a javascript:, data:, vbscript:, file:, blob:, about: or filesystem: scheme',
      );
    expect(refusal([web({ post_logout_redirect_uris: ['javascript:alert(1)'] })])).toMatch(/post_logout_redirect_uris\[0\]: must not use a javascript:/);
    // native apps' private-use schemes stay allowed (RFC 8252 §7.1)
    expect(parse([web({ redirect_uris: ['com.example.app:/oauth2redirect'] })])[0]!.redirect_uris).toEqual(['com.example.app:/oauth2redirect']);
  });

  it('replaces ${VAR} with the environment and names a missing variable', () => {
    const clients = [web({ client_secret: '${WEB_SECRET}', redirect_uris: ['https://${APP_HOST}/cb'] })];
    const parsed = parse(clients, { env: { WEB_SECRET: SECRET, APP_HOST: 'app.example.com' } });
    expect(parsed[0]!.client_secret).toBe(SECRET);
    expect(parsed[0]!.redirect_uris).toEqual(['https://app.example.com/cb']);
    expect(refusal(clients, { env: { APP_HOST: 'app.example.com' } })).toBe(
      'clients.json: clients[0].client_secret: environment variable WEB_SECRET is not set',
    );
    // an empty variable is as good as missing: it would make an empty secret
    expect(refusal(clients, { env: { WEB_SECRET: '', APP_HOST: 'x' } })).toBe(
      'clients.json: clients[0].client_secret: environment variable WEB_SECRET is not set',
    );
  });

  it('checks an interpolated secret after interpolation', () => {
    expect(refusal([web({ client_secret: '${WEB_SECRET}' })], { env: { WEB_SECRET: 'short' } })).toBe(
      'clients.json: clients[0].client_secret: must be at least 32 characters (use a long random value)',
    );
  });

  it('refuses a duplicate client_id', () => {
    expect(refusal([web({ client_id: 'a' }), web({ client_id: 'b' }), web({ client_id: 'a' })])).toBe(
      'clients.json: clients[2].client_id: duplicate client_id "a"',
    );
  });

  it('refuses the demo secrets in production only', () => {
    const demo = [web({ client_secret: 'demo-webapp-secret-0123456789abcdefghij' })];
    expect(parse(demo)).toHaveLength(1);
    expect(refusal(demo, { production: true })).toBe('clients.json: clients[0].client_secret: is a demo secret; set a random one in production');
  });

  it('refuses unknown fields, bad grant types and bad JSON with the field named', () => {
    expect(refusal([web({ redirect_uri: 'https://typo.example.com' })])).toBe('clients.json: clients[0]: Unrecognized key: "redirect_uri"');
    expect(refusal([web({ grant_types: ['magic'] })])).toMatch(/^clients\.json: clients\[0\]\.grant_types\[0\]: Invalid option: expected one of /);
    expect(() => parseRegistry('{"clients": [', 'clients.json', { production: false })).toThrow(/^clients\.json: not valid JSON \(/);
  });

  it('refuses a public client with a secret, and a confidential grant on a public client', () => {
    expect(refusal([web({ token_endpoint_auth_method: 'none' })])).toBe(
      'clients.json: clients[0].client_secret: must not be set for a public client (token_endpoint_auth_method none)',
    );
    expect(refusal([{ client_id: 'svc', grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }])).toBe(
      'clients.json: clients[0].grant_types: client_credentials and password need a confidential client (RFC 6749 §4.3, §4.4)',
    );
  });

  it('fills defaults as INTERFACE.md says', () => {
    const [c] = parse([{ client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'a b' }]);
    expect(c).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', require_pkce: true, client_name: 'svc', audience: [] });
  });

  it('names an unreadable file', () => {
    const missing = path.join(tmpdir(), 'no-such-dir', 'clients.json');
    expect(() => loadRegistry(missing, { production: false })).toThrow(`${missing}: cannot read the client registry (ENOENT)`);
  });

  it('accepts the demo registry in config/ with one client per flow, and refuses it in production', () => {
    const clients = loadRegistry('config/clients.json', { production: false, env: { ISSUER: 'http://localhost:3000' } });
    const grants = new Set(clients.flatMap((c) => c.grant_types));
    for (const g of ['authorization_code', 'implicit', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code'])
      expect(grants, g).toContain(g);
    expect(clients.some((c) => c.token_endpoint_auth_method === 'none' && c.grant_types.includes('authorization_code'))).toBe(true);
    expect(() => loadRegistry('config/clients.json', { production: true, env: { ISSUER: 'https://id.example.com' } })).toThrow(/is a demo secret/);
  });

  it('loads a file from disk with the same checks', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'registry-'));
    const file = path.join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify({ clients: [web({ redirect_uris: ['https://x.example.com/#a'] })] }));
    expect(() => loadRegistry(file, { production: false })).toThrow(`${file}: clients[0].redirect_uris[0]: must be an absolute URL without a fragment`);
  });
});
