// redirect_uri matching: exact (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3), any port for loopback IP
// redirect URIs (RFC 8252 §7.3).
import { describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { isRegisteredRedirectUri } from '../../src/oauth/authorize/redirect-uri.js';
import type { Client } from '../../src/repositories/clients.js';

const client = { ...clientSchema.parse({ client_id: 'native', redirect_uris: ['http://127.0.0.1/cb', 'http://[::1]:8000/cb?x=1', 'https://app.example.com/cb', 'com.example.app:/oauth'], token_endpoint_auth_method: 'none' }), client_secret_hash: null, enabled: true } as Client;

describe('redirect_uri matching', () => {
  it('matches registered URIs exactly', () => {
    for (const uri of client.redirect_uris) expect(isRegisteredRedirectUri(client, uri)).toBe(true);
  });

  it('matches a loopback IP URI on any port, with the same path and query', () => {
    expect(isRegisteredRedirectUri(client, 'http://127.0.0.1:49152/cb')).toBe(true);
    expect(isRegisteredRedirectUri(client, 'http://[::1]/cb?x=1')).toBe(true);
    expect(isRegisteredRedirectUri(client, 'http://[::1]:1234/cb?x=1')).toBe(true);
  });

  it('refuses anything else', () => {
    for (const uri of [
      'http://127.0.0.1:49152/cb/',
      'http://127.0.0.1:49152/cb?x=1',
      'http://127.0.0.2/cb',
      'http://[::1]:1234/cb',
      'https://127.0.0.1/cb',
      'https://app.example.com/cb/',
      'https://app.example.com/CB',
      'https://app.example.com:443/cb',
      'https://app.example.com/cb#x',
      'https://app.example.com.evil.com/cb',
      'http://app.example.com/cb',
      'com.example.app:/oauth2',
      'http://127.0.0.1@evil.com/cb',
      'http://127.0.0.1:99999/cb',
    ])
      expect(isRegisteredRedirectUri(client, uri)).toBe(false);
  });
});
