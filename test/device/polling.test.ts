// Polling /token with the device_code grant (RFC 8628 §3.4, §3.5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { ALICE, claimsOf, defaultClients, startTestServer, type TestServer } from '../support/harness.js';
import { DEVICE_CODE_GRANT_TYPE, decide, expire, form, lastPolledAgo, poll, rowOf, startDevice } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    clients: [
      ...defaultClients(),
      clientSchema.parse({ client_id: 'tv2', client_name: 'Other TV', grant_types: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'], token_endpoint_auth_method: 'none', scope: 'openid profile offline_access' }),
      clientSchema.parse({ client_id: 'kiosk', client_name: 'Kiosk', grant_types: [DEVICE_CODE_GRANT_TYPE], token_endpoint_auth_method: 'none', scope: 'openid offline_access' }),
    ],
  });
});
afterAll(async () => s?.close());

const errorOf = async (device_code: string, extra: Record<string, string> = {}) => {
  const r = await poll(s, device_code, extra);
  expect(r.headers['cache-control']).toBe('no-store');
  return { status: r.statusCode, ...(r.json() as { error: string; error_description: string }) };
};

describe('while the person has not decided', () => {
  it('is authorization_pending', async () => {
    const d = await startDevice(s);
    expect(await errorOf(d.device_code)).toMatchObject({ status: 400, error: 'authorization_pending' });
    await lastPolledAgo(s.ctx, d.device_code, 6);
    expect(await errorOf(d.device_code)).toMatchObject({ error: 'authorization_pending' });
  });

  it('is slow_down when polled faster than the interval, and the interval grows by 5 seconds each time (§3.5)', async () => {
    const d = await startDevice(s);
    expect((await errorOf(d.device_code)).error).toBe('authorization_pending');
    const fast = await errorOf(d.device_code);
    expect(fast).toMatchObject({ status: 400, error: 'slow_down' });
    expect(fast.error_description).toContain('10 seconds');
    expect((await rowOf(s.ctx, d.device_code)).interval).toBe(10);
    // 6 s is enough for the first interval, no longer for the grown one
    await lastPolledAgo(s.ctx, d.device_code, 6);
    expect((await errorOf(d.device_code)).error).toBe('slow_down');
    expect((await rowOf(s.ctx, d.device_code)).interval).toBe(15);
    // waiting the current interval is fine again
    await lastPolledAgo(s.ctx, d.device_code, 15);
    expect((await errorOf(d.device_code)).error).toBe('authorization_pending');
    expect((await rowOf(s.ctx, d.device_code)).interval).toBe(15);
  });
});

describe('decided or expired', () => {
  it('is access_denied after the person denied, on every poll until it expires', async () => {
    const d = await startDevice(s);
    expect(await decide(s.ctx, d.user_code, false)).toBe(true);
    expect(await errorOf(d.device_code)).toMatchObject({ status: 400, error: 'access_denied' });
    await lastPolledAgo(s.ctx, d.device_code, 6);
    expect((await errorOf(d.device_code)).error).toBe('access_denied');
  });

  it('is expired_token after expires_in, pending or approved', async () => {
    const pending = await startDevice(s);
    await expire(s.ctx, pending.device_code);
    expect(await errorOf(pending.device_code)).toMatchObject({ status: 400, error: 'expired_token' });

    const approved = await startDevice(s);
    await decide(s.ctx, approved.user_code, true);
    await expire(s.ctx, approved.device_code);
    expect((await errorOf(approved.device_code)).error).toBe('expired_token');
  });

  it('cannot be decided after it expired', async () => {
    const d = await startDevice(s);
    await expire(s.ctx, d.device_code);
    expect(await s.ctx.repos.deviceCodes.findPendingByUserCode(d.user_code.replace('-', ''))).toBeUndefined();
  });
});

describe('approved', () => {
  it('issues an access token tied to a new grant, an ID token with auth_time and a refresh token, once', async () => {
    const d = await startDevice(s, { scope: 'openid profile offline_access' });
    const authTime = new Date(Math.floor(Date.now() / 1000 - 42) * 1000);
    await decide(s.ctx, d.user_code, true, ALICE.sub, authTime);
    const r = await poll(s, d.device_code);
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const t = r.json();
    expect(t).toMatchObject({ token_type: 'Bearer', scope: 'openid profile offline_access', expires_in: 3600 });
    expect(t.refresh_token).toEqual(expect.any(String));

    const at = claimsOf(t.access_token);
    expect(at).toMatchObject({ iss: s.issuer, sub: ALICE.sub, client_id: 'tv', scope: 'openid profile offline_access', auth_time: authTime.getTime() / 1000 });
    const grant = await s.ctx.repos.grants.findGrant(at.grant_id as string);
    expect(grant).toMatchObject({ client_id: 'tv', sub: ALICE.sub, scope: 'openid profile offline_access', revoked_at: null });
    expect(grant!.auth_time!.getTime()).toBe(authTime.getTime());

    const id = claimsOf(t.id_token);
    expect(id).toMatchObject({ iss: s.issuer, sub: ALICE.sub, aud: 'tv', auth_time: authTime.getTime() / 1000 });
    expect(id.at_hash).toEqual(expect.any(String));
    expect((await s.ctx.repos.grants.findRefreshToken(t.refresh_token))?.grant_id).toBe(at.grant_id);

    // the access token works at userinfo
    const ui = await s.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${t.access_token}` } });
    expect(ui.statusCode).toBe(200);
    expect(ui.json()).toMatchObject({ sub: ALICE.sub, name: 'Alice Example' });

    // §3.5: tokens exactly once
    await lastPolledAgo(s.ctx, d.device_code, 6);
    expect(await errorOf(d.device_code)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('the refresh token works with the refresh_token grant', async () => {
    const d = await startDevice(s, { scope: 'openid offline_access' });
    await decide(s.ctx, d.user_code, true);
    const t = (await poll(s, d.device_code)).json();
    const r = await form(s, '/token', { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: 'tv' });
    expect(r.statusCode).toBe(200);
    expect(r.json().access_token).toEqual(expect.any(String));
  });

  it('gives no ID token without openid and no refresh token without offline_access', async () => {
    const d = await startDevice(s, { scope: 'profile' });
    await decide(s.ctx, d.user_code, true);
    const t = (await poll(s, d.device_code)).json();
    expect(t.scope).toBe('profile');
    expect(t.id_token).toBeUndefined();
    expect(t.refresh_token).toBeUndefined();
  });

  it('gives no refresh token to a client not registered for refresh_token, even with offline_access', async () => {
    const r = await form(s, '/device_authorization', { client_id: 'kiosk', scope: 'openid offline_access' });
    const d = r.json();
    await decide(s.ctx, d.user_code, true);
    const t = (await poll(s, d.device_code, { client_id: 'kiosk' })).json();
    expect(t.id_token).toEqual(expect.any(String));
    expect(t.refresh_token).toBeUndefined();
  });

  it('of 20 concurrent polls, exactly one gets tokens and the others invalid_grant', async () => {
    const d = await startDevice(s);
    await decide(s.ctx, d.user_code, true);
    const results = await Promise.all(Array.from({ length: 20 }, () => poll(s, d.device_code)));
    const ok = results.filter((r) => r.statusCode === 200);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.statusCode !== 200).map((r) => r.json().error)).toEqual(Array(19).fill('invalid_grant'));
    const grants = await s.ctx.db.selectFrom('grants').select('grant_id').where('client_id', '=', 'tv').where('grant_id', '=', claimsOf(ok[0]!.json().access_token).grant_id as string).execute();
    expect(grants).toHaveLength(1);
  });
});

describe('bad requests', () => {
  it('is invalid_request without device_code', async () => {
    const r = await form(s, '/token', { grant_type: DEVICE_CODE_GRANT_TYPE, client_id: 'tv' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
  });

  it('is invalid_grant for an unknown device_code', async () => {
    expect(await errorOf('not-a-device-code')).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it("is invalid_grant for another client's device_code, and that poll leaves the code usable", async () => {
    const d = await startDevice(s);
    await decide(s.ctx, d.user_code, true);
    expect(await errorOf(d.device_code, { client_id: 'tv2' })).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect((await poll(s, d.device_code)).statusCode).toBe(200);
  });

  it('is unauthorized_client for a client not registered for the grant', async () => {
    const d = await startDevice(s);
    const r = await form(s, '/token', { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: d.device_code, client_id: 'spa' });
    expect(r.json().error).toBe('unauthorized_client');
  });

  it('is invalid_target for a resource the client may not use, without spending an approved code', async () => {
    const d = await startDevice(s);
    await decide(s.ctx, d.user_code, true);
    expect(await errorOf(d.device_code, { resource: 'https://elsewhere.example.com' })).toMatchObject({ error: 'invalid_target' });
    expect((await poll(s, d.device_code)).statusCode).toBe(200);
  });
});
