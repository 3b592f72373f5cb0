// The HMACs that carry an authorization request through the login and consent pages.
import { describe, expect, it } from 'vitest';
import { consentMac, isValidConsentMac, LOGIN_MARKER, LOGIN_MARKER_TTL_MS, loginMarker, loginRequestedAt } from '../../src/oauth/authorize/interaction.js';

const SECRET = 'a-secret-key-0123456789-0123456789';
const params = { client_id: 'web', scope: 'openid', prompt: 'login', state: 'abc' };

describe('login marker', () => {
  it('gives back the time a login was asked for, for exactly these parameters', () => {
    const at = Date.now() - 1000;
    const marker = loginMarker(SECRET, params, at);
    expect(loginRequestedAt(SECRET, { ...params, [LOGIN_MARKER]: marker })).toBe(at);
  });

  it('is void for other parameters, another secret, a changed time, or when too old', () => {
    const at = Date.now() - 1000;
    const marker = loginMarker(SECRET, params, at);
    expect(loginRequestedAt(SECRET, { ...params, prompt: 'consent', [LOGIN_MARKER]: marker })).toBeUndefined();
    expect(loginRequestedAt(`${SECRET}x`, { ...params, [LOGIN_MARKER]: marker })).toBeUndefined();
    expect(loginRequestedAt(SECRET, { ...params, [LOGIN_MARKER]: marker.replace(String(at), String(at - 60_000)) })).toBeUndefined();
    const old = Date.now() - LOGIN_MARKER_TTL_MS - 1000;
    expect(loginRequestedAt(SECRET, { ...params, [LOGIN_MARKER]: loginMarker(SECRET, params, old) })).toBeUndefined();
    expect(loginRequestedAt(SECRET, params)).toBeUndefined();
  });
});

describe('consent MAC', () => {
  it('binds the form to the request and the session', () => {
    const mac = consentMac(SECRET, params, 'session-a');
    expect(isValidConsentMac(SECRET, { ...params, _consent: mac, _csrf: 'x', decision: 'allow' }, 'session-a')).toBe(true);
    expect(isValidConsentMac(SECRET, { ...params, _consent: mac }, 'session-b')).toBe(false);
    expect(isValidConsentMac(SECRET, { ...params, scope: 'openid email', _consent: mac }, 'session-a')).toBe(false);
    expect(isValidConsentMac(SECRET, { ...params, extra: '1', _consent: mac }, 'session-a')).toBe(false);
    expect(isValidConsentMac(SECRET, params, 'session-a')).toBe(false);
  });
});
