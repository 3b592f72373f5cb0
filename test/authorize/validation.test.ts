// The authorization request is validated in RFC 6749 §4.1.2.1's order: client, then redirect
// URI (a page, never a redirect), then everything else (an error sent to the redirect URI with
// state and iss).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClients, REDIRECT, startTestServer, type TestServer } from '../support/harness.js';
import { authorizeUrl, codeRequest, ERROR_DESCRIPTION, get, Jar, parseForms, redirectParams, signedIn } from './support.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const IMPLICIT_REDIRECT = 'https://implicit.example.com/cb';

function expectPage(res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  expect(res.statusCode).toBe(400);
  expect(res.headers.location).toBeUndefined();
  expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
  expect(res.body).not.toMatch(/at .*\.ts:\d+/); // no stack trace
}

describe('client and redirect_uri: an error page, no redirect', () => {
  it('shows a page for an unknown client_id', async () => {
    const res = await get(s, new Jar(), authorizeUrl(codeRequest({ client_id: 'nobody' })));
    expectPage(res);
    expect(res.body).toContain('nobody');
  });

  it('shows a page when client_id is missing', async () => {
    expectPage(await get(s, new Jar(), authorizeUrl(codeRequest({ client_id: undefined }))));
  });

  it('shows a page for a redirect_uri that is not registered, even when other parameters are wrong too', async () => {
    for (const uri of ['https://evil.example.com/cb', `${REDIRECT}/x`, `${REDIRECT}?a=1`, 'http://127.0.0.1:8080/Callback', 'https://app.example.com:8443/cb']) {
      expectPage(await get(s, new Jar(), authorizeUrl(codeRequest({ redirect_uri: uri, response_type: 'bogus' }))));
    }
  });

  it('shows a page for a client that has no redirect URI (client_credentials only)', async () => {
    expectPage(await get(s, new Jar(), authorizeUrl(codeRequest({ client_id: 'service', redirect_uri: undefined }))));
  });

  it('shows a page for a client that was disabled (removed from the registry)', async () => {
    const other = await startTestServer();
    try {
      await other.ctx.repos.clients.sync(defaultClients().filter((c) => c.client_id !== 'spa'));
      await other.ctx.clients.reload();
      expectPage(await get(other, new Jar(), authorizeUrl(codeRequest({ client_id: 'spa', redirect_uri: 'http://localhost:5173/cb' }))));
    } finally {
      await other.close();
    }
  });

  it('shows a page when redirect_uri is omitted and the client registered more than one', async () => {
    expectPage(await get(s, new Jar(), authorizeUrl(codeRequest({ redirect_uri: undefined, scope: 'profile' }))));
  });

  it('shows a page when client_id is repeated', async () => {
    expectPage(await get(s, new Jar(), `${authorizeUrl(codeRequest())}&client_id=spa`));
  });

  it('accepts a loopback redirect URI on any port (RFC 8252 7.3), but not another path', async () => {
    const jar = await signedIn(s);
    await s.ctx.repos.consents.grant('alice-sub-1', 'web', ['openid', 'profile', 'email']);
    const res = await get(s, jar, authorizeUrl(codeRequest({ redirect_uri: 'http://127.0.0.1:51234/callback' })));
    expect(res.statusCode).toBe(303);
    const r = redirectParams(res);
    expect(r.url.origin + r.url.pathname).toBe('http://127.0.0.1:51234/callback');
    expect(r.params.get('code')).toBeTruthy();
    expectPage(await get(s, jar, authorizeUrl(codeRequest({ redirect_uri: 'http://127.0.0.1:51234/other' }))));
  });
});

describe('later errors go to the redirect_uri with error, error_description, state and iss', () => {
  const cases: [string, Record<string, string | undefined>, string, ('query' | 'fragment')?][] = [
    ['response_type missing', { response_type: undefined }, 'invalid_request'],
    ['response_type token (not supported)', { response_type: 'token' }, 'unsupported_response_type', 'fragment'],
    ['response_type "code id_token" (hybrid, not supported)', { response_type: 'code id_token' }, 'unsupported_response_type', 'fragment'],
    ['response_type id_token for a client that did not register it', { response_type: 'id_token' }, 'unauthorized_client', 'fragment'],
    ['an unknown response_mode', { response_mode: 'jwt' }, 'invalid_request'],
    ['no scope', { scope: undefined }, 'invalid_scope'],
    ['only scopes the client did not register', { scope: 'invoices:read admin' }, 'invalid_scope'],
    ['a scope with characters RFC 6749 3.3 forbids', { scope: 'openid "quoted"' }, 'invalid_scope'],
    ['code_challenge_method plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['code_challenge without code_challenge_method (plain by default)', { code_challenge_method: undefined }, 'invalid_request'],
    ['code_challenge_method without code_challenge', { code_challenge: undefined }, 'invalid_request'],
    ['a malformed code_challenge', { code_challenge: 'short' }, 'invalid_request'],
    ['no code_challenge for a client with require_pkce', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
    ['prompt=none with another value', { prompt: 'none login' }, 'invalid_request'],
    ['an unknown prompt value', { prompt: 'sometimes' }, 'invalid_request'],
    ['a max_age that is not a number', { max_age: 'soon' }, 'invalid_request'],
    ['a negative max_age', { max_age: '-5' }, 'invalid_request'],
    ['an id_token_hint that is not our ID token', { id_token_hint: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }, 'invalid_request'],
    ['a claims parameter that is not JSON', { claims: '{not json' }, 'invalid_request'],
    ['an unsigned (alg none) request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'invalid_request_object'],
    ['a request_uri to fetch (only pushed ones are accepted)', { request_uri: 'https://app.example.com/request.jwt' }, 'request_uri_not_supported'],
  ];
  for (const [what, over, error, mode] of cases) {
    it(`${what}: ${error}`, async () => {
      const req = codeRequest(over);
      const res = await get(s, new Jar(), authorizeUrl(req));
      expect(res.statusCode).toBe(303);
      const r = redirectParams(res);
      expect(r.url.href.startsWith(REDIRECT)).toBe(true);
      expect(r.in).toBe(mode ?? 'query');
      expect(r.params.get('error')).toBe(error);
      expect(r.params.get('error_description')).toMatch(ERROR_DESCRIPTION);
      expect(r.params.get('state')).toBe(req.state);
      expect(r.params.get('iss')).toBe(s.issuer);
      expect(r.params.get('code')).toBeNull();
    });
  }

  it('keeps error_description to the RFC 6749 4.1.2.1 characters when it echoes what was sent', async () => {
    for (const over of [{ response_type: 'code"\\é' }, { prompt: 'login"\\é' }, { response_mode: 'query"\\é' }]) {
      const r = redirectParams(await get(s, new Jar(), authorizeUrl(codeRequest(over))));
      expect(r.params.get('error')).toMatch(/^(unsupported_response_type|invalid_request)$/);
      expect(r.params.get('error_description')).toMatch(ERROR_DESCRIPTION);
    }
  });

  it('a repeated parameter is invalid_request', async () => {
    const req = codeRequest();
    const r = redirectParams(await get(s, new Jar(), `${authorizeUrl(req)}&scope=openid`));
    expect(r.params.get('error')).toBe('invalid_request');
    expect(r.params.get('state')).toBe(req.state);
  });

  it('a public client without code_challenge is invalid_request (PKCE is required for public clients)', async () => {
    const req = codeRequest({ client_id: 'spa', redirect_uri: 'http://localhost:5173/cb', code_challenge: undefined, code_challenge_method: undefined });
    const r = redirectParams(await get(s, new Jar(), authorizeUrl(req)));
    expect(r.params.get('error')).toBe('invalid_request');
    expect(r.params.get('error_description')).toMatch(/code_challenge/);
  });

  it('an OpenID request without redirect_uri goes to the only registered URI as invalid_request (OIDC Core 3.1.2.1)', async () => {
    const req = codeRequest({ client_id: 'spa', redirect_uri: undefined });
    const r = redirectParams(await get(s, new Jar(), authorizeUrl(req)));
    expect(r.url.href.startsWith('http://localhost:5173/cb')).toBe(true);
    expect(r.params.get('error')).toBe('invalid_request');
  });

  it('implicit without nonce is invalid_request, in the fragment', async () => {
    const req = codeRequest({ client_id: 'implicit', redirect_uri: IMPLICIT_REDIRECT, response_type: 'id_token', scope: 'openid', nonce: undefined, code_challenge: undefined, code_challenge_method: undefined });
    const r = redirectParams(await get(s, new Jar(), authorizeUrl(req)));
    expect(r.in).toBe('fragment');
    expect(r.params.get('error')).toBe('invalid_request');
    expect(r.params.get('state')).toBe(req.state);
    expect(r.params.get('iss')).toBe(s.issuer);
  });

  it('implicit with response_mode=query is invalid_request, sent in the fragment (Multiple Response Types 2.1)', async () => {
    const req = codeRequest({ client_id: 'implicit', redirect_uri: IMPLICIT_REDIRECT, response_type: 'id_token', scope: 'openid', response_mode: 'query' });
    const res = await get(s, new Jar(), authorizeUrl(req));
    const r = redirectParams(res);
    expect(r.in).toBe('fragment');
    expect(r.url.search).toBe('');
    expect(r.params.get('error')).toBe('invalid_request');
  });

  it('implicit without the openid scope is invalid_scope', async () => {
    const req = codeRequest({ client_id: 'implicit', redirect_uri: IMPLICIT_REDIRECT, response_type: 'id_token', scope: 'profile' });
    expect(redirectParams(await get(s, new Jar(), authorizeUrl(req))).params.get('error')).toBe('invalid_scope');
  });

  it('an error requested with response_mode=form_post comes back as a form_post page', async () => {
    const req = codeRequest({ response_mode: 'form_post', scope: 'nothing-registered' });
    const res = await get(s, new Jar(), authorizeUrl(req));
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('name="error" value="invalid_scope"');
    expect(res.body).toContain(`name="iss" value="${s.issuer}"`);
    expect(res.body).toContain(`action="${REDIRECT}"`);
  });

  it('prompt=none without a session is login_required', async () => {
    const req = codeRequest({ prompt: 'none' });
    const r = redirectParams(await get(s, new Jar(), authorizeUrl(req)));
    expect(r.params.get('error')).toBe('login_required');
    expect(r.params.get('state')).toBe(req.state);
    expect(r.params.get('iss')).toBe(s.issuer);
  });
});

describe('request shape', () => {
  it('returns a 150-character state made of every RFC 6749 VSCHAR byte-identical', async () => {
    let vschar = '';
    for (let c = 0x20; c <= 0x7e; c++) vschar += String.fromCharCode(c);
    const state = (vschar + vschar).slice(0, 150);
    for (const over of [{ scope: 'nothing-registered' }, { response_mode: 'form_post', scope: 'nothing-registered' }, { response_mode: 'fragment', scope: 'nothing-registered' }]) {
      const res = await get(s, new Jar(), authorizeUrl(codeRequest({ state, ...over })));
      if (res.statusCode === 303) expect(redirectParams(res).params.get('state')).toBe(state);
      else expect(parseForms(res.body, s.issuer)[0]!.fields.state).toBe(state);
    }
  });

  it('accepts the request as POST with a form body (OIDC Core 3.1.2.1)', async () => {
    const req = codeRequest({ prompt: 'none' });
    const res = await s.app.inject({ method: 'POST', url: '/authorize', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(req).toString() });
    const r = redirectParams(res);
    expect(r.params.get('error')).toBe('login_required');
    expect(r.params.get('state')).toBe(req.state);
  });

  it('ignores unknown parameters and accepts display, ui_locales, claims_locales, acr_values and login_hint', async () => {
    const req = codeRequest({ display: 'page', ui_locales: 'fr-CA en', claims_locales: 'fr', acr_values: 'urn:mace:incommon:iap:silver', login_hint: 'alice', foo: 'bar' });
    const res = await get(s, new Jar(), authorizeUrl(req));
    expect(res.statusCode).toBe(303);
    const login = new URL(res.headers.location as string, s.issuer);
    expect(login.pathname).toBe('/login');
    expect(login.searchParams.get('login_hint')).toBe('alice');
  });

  it('sends a person without a session to the login page with a local return_to', async () => {
    const res = await get(s, new Jar(), authorizeUrl(codeRequest()));
    expect(res.statusCode).toBe(303);
    const login = new URL(res.headers.location as string, s.issuer);
    expect(login.pathname).toBe('/login');
    expect(login.searchParams.get('return_to')).toMatch(/^\/authorize\?/);
  });
});

describe('discovery', () => {
  it('advertises the authorization endpoint and exactly what it supports', async () => {
    const m = (await s.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    expect(m).toMatchObject({
      authorization_endpoint: `${s.issuer}/authorize`,
      end_session_endpoint: `${s.issuer}/logout`,
      response_types_supported: ['code', 'id_token', 'id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      code_challenge_methods_supported: ['S256'],
      prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
      claims_parameter_supported: true,
      request_parameter_supported: true,
      request_uri_parameter_supported: false,
      request_object_signing_alg_values_supported: ['RS256', 'ES256', 'PS256', 'EdDSA'],
      require_signed_request_object: false,
      pushed_authorization_request_endpoint: `${s.issuer}/par`,
      require_pushed_authorization_requests: false,
      authorization_response_iss_parameter_supported: true,
    });
    expect(m.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'implicit', 'refresh_token']));
    expect(m).toMatchObject({
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      scopes_supported: ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'],
      subject_types_supported: ['public', 'pairwise'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      userinfo_endpoint: `${s.issuer}/userinfo`,
    });
  });

  it('lists exactly the claims the ID token and userinfo can carry: no c_hash (hybrid flows are not supported)', async () => {
    const m = (await s.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    const scopeClaims = [
      'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
      'email', 'email_verified', 'address', 'phone_number', 'phone_number_verified',
    ];
    expect([...m.claims_supported].sort()).toEqual(['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'at_hash', 'sid', ...scopeClaims].sort());
  });
});
