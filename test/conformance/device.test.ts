// Device authorization grant (RFC 8628) driven with openid-client against a listening server,
// with the person at /device played by a cookie-jar browser.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startTestServer, type TestServer } from '../support/harness.js';
import { expire, lastPolledAgo } from '../device/helpers.js';
import { Browser, isCallback, parseForms, textOf, type Page } from './support/browser.js';
import { refusal, relyingParty } from './support/rp.js';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

let s: TestServer;
let tv: client.Configuration;
beforeAll(async () => {
  s = await startTestServer({ listen: true });
  tv = await relyingParty(s.issuer, 'tv');
});
afterAll(async () => s?.close());

/** One poll, outside openid-client's polling loop, so each answer can be looked at. */
const pollOnce = (d: client.DeviceAuthorizationResponse) => client.genericGrantRequest(tv, DEVICE_CODE, { device_code: d.device_code });

/** Polls with openid-client's own loop; the person has decided already, so no need to wait 5 s. */
const pollNow = (d: client.DeviceAuthorizationResponse) => client.pollDeviceAuthorizationGrant(tv, { ...d, interval: 0.01 }, undefined, { signal: AbortSignal.timeout(10_000) });

/**
 * The person's side: open the URL, enter the code if asked, sign in if asked, press allow or
 * deny on the consent page. Returns the last page (done or denied).
 */
async function person(b: Browser, url: string, decision: 'allow' | 'deny', typed?: string): Promise<Page> {
  let at = await b.get(url);
  for (let step = 0; step < 6; step++) {
    if (isCallback(at)) throw new Error(`left the server for ${at.url}`);
    const forms = parseForms(at.html, at.url);
    const consent = forms.find((f) => f.buttons.some((x) => x.name === 'decision'));
    const login = forms.find((f) => /name=["']?password/i.test(f.html));
    const entry = forms.find((f) => 'user_code' in f.fields);
    if (consent) at = await b.submit(consent, {}, consent.buttons.find((x) => x.name === 'decision' && x.value === decision));
    else if (login) at = await b.submit(login, { username: ALICE.username, password: ALICE.password });
    else if (entry) at = await b.submit(entry, typed ? { user_code: typed } : {});
    else return at;
  }
  throw new Error(`no end page reached; last at ${isCallback(at) ? at.url : at.url}`);
}

describe('device authorization (RFC 8628)', () => {
  it('discovery advertises the device authorization endpoint and grant', () => {
    const meta = tv.serverMetadata();
    expect(meta.device_authorization_endpoint).toBe(`${s.issuer}/device_authorization`);
    expect(meta.grant_types_supported).toContain(DEVICE_CODE);
  });

  it('full flow: pending, the person approves at verification_uri_complete, the device gets tokens once', async () => {
    const d = await client.initiateDeviceAuthorization(tv, { scope: 'openid profile offline_access' });
    expect(d.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(d.verification_uri).toBe(`${s.issuer}/device`);
    expect(d.verification_uri_complete).toBe(`${s.issuer}/device?user_code=${d.user_code}`);
    expect(d.expires_in).toBe(600);
    expect(d.interval).toBe(5);

    expect((await refusal(pollOnce(d))).error).toBe('authorization_pending');

    const done = await person(new Browser(s.issuer), d.verification_uri_complete!, 'allow');
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain('You can return to your device');

    await lastPolledAgo(s.ctx, d.device_code, 6);
    const t = await pollNow(d);
    expect(t.token_type).toBe('bearer');
    expect(t.scope).toBe('openid profile offline_access');
    expect(t.refresh_token).toEqual(expect.any(String));
    const id = t.claims()!;
    expect(id).toMatchObject({ iss: s.issuer, sub: ALICE.sub, aud: 'tv' });
    expect(id.auth_time).toEqual(expect.any(Number));
    const jwks = createRemoteJWKSet(new URL(tv.serverMetadata().jwks_uri!));
    await jwtVerify(t.id_token!, jwks, { issuer: s.issuer, audience: 'tv' });
    await jwtVerify(t.access_token, jwks, { issuer: s.issuer, typ: 'at+jwt' });

    const userinfo = await client.fetchUserInfo(tv, t.access_token, ALICE.sub);
    expect(userinfo).toMatchObject({ sub: ALICE.sub, name: 'Alice Example' });

    // tokens exactly once
    await lastPolledAgo(s.ctx, d.device_code, 6);
    expect((await refusal(pollOnce(d))).error).toBe('invalid_grant');

    // and the refresh token works
    const refreshed = await client.refreshTokenGrant(tv, t.refresh_token!);
    expect(refreshed.access_token).toEqual(expect.any(String));
  });

  it('a person who types the code (lower case, no dash) at verification_uri', async () => {
    const d = await client.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const done = await person(new Browser(s.issuer), d.verification_uri, 'allow', d.user_code.toLowerCase().replace('-', ''));
    expect(textOf(done.html)).toContain('You can return to your device');
    const t = await pollNow(d);
    expect(t.claims()!.sub).toBe(ALICE.sub);
    expect(t.refresh_token).toBeUndefined();
  });

  it('access_denied when the person denies', async () => {
    const d = await client.initiateDeviceAuthorization(tv, {});
    const denied = await person(new Browser(s.issuer), d.verification_uri_complete!, 'deny');
    expect(textOf(denied.html)).toContain('was not allowed');
    const e = await refusal(pollNow(d));
    expect(e.error).toBe('access_denied');
  });

  it('slow_down when polled faster than the interval, growing it by 5 seconds', async () => {
    const d = await client.initiateDeviceAuthorization(tv, {});
    expect((await refusal(pollOnce(d))).error).toBe('authorization_pending');
    const e = await refusal(pollOnce(d));
    expect(e.error).toBe('slow_down');
    expect(e.error_description).toContain('10 seconds');
    await lastPolledAgo(s.ctx, d.device_code, 6);
    expect((await refusal(pollOnce(d))).error_description).toContain('15 seconds');
  });

  it('expired_token once expires_in has passed', async () => {
    const d = await client.initiateDeviceAuthorization(tv, {});
    await expire(s.ctx, d.device_code);
    expect((await refusal(pollNow(d))).error).toBe('expired_token');
  });

  it('invalid_scope when nothing requested is registered; unauthorized_client for a client without the grant', async () => {
    expect((await refusal(client.initiateDeviceAuthorization(tv, { scope: 'email' }))).error).toBe('invalid_scope');
    const spa = await relyingParty(s.issuer, 'spa');
    expect((await refusal(client.initiateDeviceAuthorization(spa, {}))).error).toBe('unauthorized_client');
  });

  it('of 20 concurrent polls of one approved device_code, exactly one gets tokens', async () => {
    const d = await client.initiateDeviceAuthorization(tv, { scope: 'openid offline_access' });
    await person(new Browser(s.issuer), d.verification_uri_complete!, 'allow');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => pollOnce(d)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as client.ResponseBodyError).error).toBe('invalid_grant');
  });
});
