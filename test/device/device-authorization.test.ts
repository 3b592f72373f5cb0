// POST /device_authorization (RFC 8628 §3.1, §3.2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { sha256 } from '../../src/crypto/hash.js';
import { basic, defaultClients, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { DEVICE_CODE_GRANT_TYPE, form, rowOf, startDevice } from './helpers.js';

const TV_SECRET = 'tv-secret-0123456789-0123456789-0123456789';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    clients: [
      ...defaultClients(),
      clientSchema.parse({ client_id: 'box', client_name: 'Set-top box', client_secret: TV_SECRET, grant_types: [DEVICE_CODE_GRANT_TYPE], scope: 'openid profile' }),
    ],
    env: { DEVICE_CODE_TTL: '900' },
  });
});
afterAll(async () => s?.close());

describe('device authorization response', () => {
  it('returns device_code, a XXXX-XXXX user_code, the verification URIs, expires_in and interval, never cached', async () => {
    const r = await form(s, '/device_authorization', { client_id: 'tv', scope: 'openid profile' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const j = r.json();
    expect(Object.keys(j).sort()).toEqual(['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete']);
    // 256 random bits, base64url
    expect(j.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(j.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(j.verification_uri).toBe(`${s.issuer}/device`);
    expect(j.verification_uri_complete).toBe(`${s.issuer}/device?user_code=${j.user_code}`);
    expect(j.expires_in).toBe(900);
    expect(j.interval).toBe(5);
  });

  it('stores only hashes of device_code and user_code, with the expiry and the client', async () => {
    const d = await startDevice(s);
    const row = await rowOf(s.ctx, d.device_code);
    expect(row.device_code_hash).toBe(sha256(d.device_code));
    expect(row.user_code_hash).toBe(sha256(d.user_code.replace('-', '')));
    expect(row).toMatchObject({ client_id: 'tv', status: 'pending', interval: 5 });
    expect(JSON.stringify(row)).not.toContain(d.device_code);
    expect(Math.abs(row.expires_at.getTime() - (Date.now() + 900_000))).toBeLessThan(10_000);
  });

  it('gives a new device_code and user_code for every request', async () => {
    const a = await startDevice(s);
    const b = await startDevice(s);
    expect(a.device_code).not.toBe(b.device_code);
    expect(a.user_code).not.toBe(b.user_code);
  });

  it('is advertised in discovery', async () => {
    const meta = (await s.app.inject({ url: '/.well-known/openid-configuration' })).json();
    expect(meta.device_authorization_endpoint).toBe(`${s.issuer}/device_authorization`);
    expect(meta.grant_types_supported).toContain(DEVICE_CODE_GRANT_TYPE);
  });
});

describe('scope', () => {
  it('defaults to the registered scope when none is requested', async () => {
    const d = await startDevice(s);
    expect((await rowOf(s.ctx, d.device_code)).scope).toBe('openid profile offline_access');
  });

  it('drops requested values the client did not register (RFC 6749 §3.3), as /authorize does', async () => {
    const d = await startDevice(s, { scope: 'openid email profile' });
    expect((await rowOf(s.ctx, d.device_code)).scope).toBe('openid profile');
  });

  it('is invalid_scope when nothing requested is registered', async () => {
    const r = await form(s, '/device_authorization', { client_id: 'tv', scope: 'email admin' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: 'invalid_scope' });
  });
});

describe('client authentication (as at /token)', () => {
  it('lets a confidential client authenticate with its registered method', async () => {
    const r = await form(s, '/device_authorization', {}, { authorization: basic('box', TV_SECRET) });
    expect(r.statusCode).toBe(200);
    expect((await rowOf(s.ctx, r.json().device_code)).client_id).toBe('box');
  });

  it('is invalid_client (401) for a confidential client without its secret, a wrong secret or an unknown client', async () => {
    for (const [body, headers] of [
      [{ client_id: 'box' }, {}],
      [{}, { authorization: basic('box', 'wrong-secret-0123456789-0123456789-0123') }],
      [{ client_id: 'nobody' }, {}],
      [{}, {}],
    ] as [Record<string, string>, Record<string, string>][]) {
      const r = await form(s, '/device_authorization', body, headers);
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toBe('invalid_client');
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  it('is unauthorized_client for a client not registered for the device grant', async () => {
    const r = await form(s, '/device_authorization', {}, { authorization: basic('web', SECRETS.web) });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: 'unauthorized_client' });
    const spa = await form(s, '/device_authorization', { client_id: 'spa' });
    expect(spa.json()).toMatchObject({ error: 'unauthorized_client' });
  });

  it('refuses a repeated parameter with invalid_request', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/device_authorization', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'client_id=tv&scope=openid&scope=profile' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
  });
});
