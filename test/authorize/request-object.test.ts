// Request objects (RFC 9101, issue 9 point 3): `request` by value signed with the client's
// registered keys, by reference through PAR, unsigned and badly signed objects refused, the
// object's parameters used instead of the query's, require_signed_request_object and
// request_object_signing_alg per client.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { basic, defaultClients, REDIRECT, startTestServer, type TestServer } from '../support/harness.js';
import { authorizeUrl, codeRequest, ERROR_DESCRIPTION, get, Jar, logInThroughPage, redirectParams, signedIn } from './support.js';

const JAR_SECRET = 'jar-app-secret-0123456789-0123456789-01234';
const STRICT_SECRET = 'jar-strict-secret-0123456789-0123456789-0';

let s: TestServer;
let es256: CryptoKey;
let rs256: CryptoKey;
let stranger: CryptoKey;
beforeAll(async () => {
  const es = await generateKeyPair('ES256');
  const rs = await generateKeyPair('RS256');
  es256 = es.privateKey;
  rs256 = rs.privateKey;
  stranger = (await generateKeyPair('ES256')).privateKey;
  const keys = [
    { ...(await exportJWK(es.publicKey)), alg: 'ES256' },
    { ...(await exportJWK(rs.publicKey)), alg: 'RS256' },
  ];
  const common = { redirect_uris: [REDIRECT], grant_types: ['authorization_code'], scope: 'openid profile email', skip_consent: true };
  s = await startTestServer({
    clients: [
      ...defaultClients(),
      // a confidential client (client_secret_basic) that registered keys for its request objects
      clientSchema.parse({ ...common, client_id: 'jar-app', client_secret: JAR_SECRET, client_name: 'JAR app', jwks: { keys } }),
      clientSchema.parse({
        ...common,
        client_id: 'jar-strict',
        client_secret: STRICT_SECRET,
        client_name: 'Strict JAR app',
        jwks: { keys },
        require_signed_request_object: true,
        request_object_signing_alg: 'ES256',
      }),
      clientSchema.parse({ ...common, client_id: 'no-keys', client_secret: 'no-keys-secret-0123456789-0123456789-0123', client_name: 'No keys' }),
    ],
  });
});
afterAll(async () => s?.close());

/** A request object for `client_id` with the claims RFC 9101 §4 expects; override any of them. */
function requestObject(client_id: string, over: JWTPayload = {}, key: CryptoKey = es256, alg = 'ES256'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = { ...codeRequest({ client_id }), iss: client_id, aud: s.issuer, iat: now, nbf: now, exp: now + 300, jti: crypto.randomUUID(), ...over };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'oauth-authz-req+jwt' }).sign(key);
}

/** `alg: none`: anyone can write it */
function unsigned(payload: JWTPayload): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${b64(payload)}.`;
}

async function authorizeWith(client_id: string, request: string, extra: Record<string, string> = {}) {
  return redirectParams(await get(s, await signedIn(s), authorizeUrl({ client_id, request, ...extra })));
}

async function expectRefused(client_id: string, request: string, error = 'invalid_request_object'): Promise<string> {
  const r = await authorizeWith(client_id, request);
  expect(r.url.href.startsWith(`${REDIRECT}?`)).toBe(true);
  expect(r.params.get('code')).toBeNull();
  expect(r.params.get('error')).toBe(error);
  expect(r.params.get('error_description')).toMatch(ERROR_DESCRIPTION);
  return r.params.get('error_description')!;
}

describe('request by value', () => {
  it('a request object signed with a registered key is the request: the code comes with its state', async () => {
    const state = 'state-from-the-object';
    const r = await authorizeWith('jar-app', await requestObject('jar-app', { state }));
    expect(r.params.get('code')).toBeTruthy();
    expect(r.params.get('state')).toBe(state);
    // RS256 with the other registered key works too
    expect((await authorizeWith('jar-app', await requestObject('jar-app', {}, rs256, 'RS256'))).params.get('code')).toBeTruthy();
  });

  it("only the object's parameters count (RFC 9101 §6.3): query parameters beside it are ignored", async () => {
    const request = await requestObject('jar-app', { state: 'inner' });
    // outside: another state, a response_mode the object does not ask for, a scope it does not have
    const r = await authorizeWith('jar-app', request, { state: 'outer', response_mode: 'fragment', scope: 'openid email', prompt: 'none' });
    expect(r.in).toBe('query');
    expect(r.params.get('state')).toBe('inner');
    const code = await s.ctx.db.selectFrom('authorization_codes').select('scope').where('client_id', '=', 'jar-app').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(code.scope).toBe('openid profile email');
  });

  it('takes claims (a JSON object) and max_age (a number) as OIDC Core §6.1 writes them', async () => {
    const request = await requestObject('jar-app', { claims: { id_token: { email: { essential: true } } }, max_age: 0 });
    // max_age=0 asks for a fresh login, so the person is sent to log in
    const res = await get(s, await signedIn(s, { authTime: new Date(Date.now() - 60_000) }), authorizeUrl({ client_id: 'jar-app', request }));
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?/);
    const back = new URL(new URL(res.headers.location as string, s.issuer).searchParams.get('return_to')!, s.issuer);
    expect(JSON.parse(back.searchParams.get('claims')!)).toEqual({ id_token: { email: { essential: true } } });
    expect(back.searchParams.get('request')).toBeNull();
  });

  it('survives the login page: the object is checked once, its parameters are answered after login', async () => {
    const request = await requestObject('jar-strict', { state: 'after-login' });
    const jar = new Jar();
    const toLogin = await get(s, jar, authorizeUrl({ client_id: 'jar-strict', request }));
    expect(toLogin.headers.location).toMatch(/^\/login\?/);
    const back = await logInThroughPage(s, jar, toLogin.headers.location as string);
    const done = redirectParams(await get(s, jar, back.headers.location as string));
    expect(done.params.get('code')).toBeTruthy();
    expect(done.params.get('state')).toBe('after-login');
  });

  it('refuses unsigned (alg none) request objects', async () => {
    const payload = { ...codeRequest({ client_id: 'jar-app' }), iss: 'jar-app', aud: s.issuer };
    expect(await expectRefused('jar-app', unsigned(payload))).toMatch(/unsigned/);
    // also for a client with no keys at all, which could not sign one
    await expectRefused('no-keys', unsigned({ ...payload, client_id: 'no-keys', iss: 'no-keys' }));
  });

  it('refuses a wrong signature, audience, issuer, an expired or not yet valid object, and another client_id inside', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused('jar-app', await requestObject('jar-app', {}, stranger));
    await expectRefused('jar-app', await requestObject('jar-app', { aud: 'https://other-server.example.com' }));
    await expectRefused('jar-app', await requestObject('jar-app', { aud: undefined }));
    await expectRefused('jar-app', await requestObject('jar-app', { iss: 'someone-else' }));
    await expectRefused('jar-app', await requestObject('jar-app', { iss: undefined }));
    await expectRefused('jar-app', await requestObject('jar-app', { iat: now - 900, nbf: now - 900, exp: now - 600 }));
    await expectRefused('jar-app', await requestObject('jar-app', { nbf: now + 600, exp: now + 900 }));
    // RFC 9101 §6.3: the client_id inside must be the request's
    await expectRefused('jar-app', await requestObject('jar-app', { client_id: 'jar-strict' }));
    // RFC 9101 §4: no request or request_uri inside
    await expectRefused('jar-app', await requestObject('jar-app', { request_uri: 'urn:ietf:params:oauth:request_uri:x' }));
    // a client without registered keys cannot send one
    await expectRefused('no-keys', await requestObject('no-keys'));
  });

  it("refuses an algorithm other than the client's request_object_signing_alg", async () => {
    expect(await expectRefused('jar-strict', await requestObject('jar-strict', {}, rs256, 'RS256'))).toMatch(/ES256/);
    expect((await authorizeWith('jar-strict', await requestObject('jar-strict'))).params.get('code')).toBeTruthy();
  });

  it('require_signed_request_object: a plain request from that client is refused', async () => {
    const req = codeRequest({ client_id: 'jar-strict' });
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(req)));
    expect(r.params.get('error')).toBe('invalid_request');
    expect(r.params.get('error_description')).toMatch(/request object/);
    expect(r.params.get('state')).toBe(req.state);
  });

  it('refuses what is not a signed JWT (garbage, encrypted, request and request_uri together) with an OAuth error, never a 500', async () => {
    for (const bad of ['not-a-jwt', 'a.b.c', '....', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln', 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', 'x'.repeat(4000)]) {
      const r = await authorizeWith('jar-app', bad);
      expect(r.params.get('error'), bad.slice(0, 30)).toBe('invalid_request_object');
    }
    const both = await authorizeWith('jar-app', await requestObject('jar-app'), { request_uri: 'urn:ietf:params:oauth:request_uri:x' });
    expect(both.params.get('error')).toBe('invalid_request');
    // no client_id beside the object: nowhere safe to redirect, so a page
    const page = await get(s, new Jar(), authorizeUrl({ request: await requestObject('jar-app') }));
    expect(page.statusCode).toBe(400);
    expect(page.headers.location).toBeUndefined();
  });
});

describe('request by reference through PAR', () => {
  const push = (client_id: string, secret: string, body: Record<string, string>) =>
    s.app.inject({ method: 'POST', url: '/par', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client_id, secret) }, payload: new URLSearchParams(body).toString() });

  it('a pushed request object is verified at push time and answered through its request_uri', async () => {
    const r = await push('jar-strict', STRICT_SECRET, { client_id: 'jar-strict', request: await requestObject('jar-strict', { state: 'pushed-object' }) });
    expect(r.statusCode, r.body).toBe(201);
    const done = redirectParams(await get(s, await signedIn(s), authorizeUrl({ client_id: 'jar-strict', request_uri: r.json().request_uri })));
    expect(done.params.get('code')).toBeTruthy();
    expect(done.params.get('state')).toBe('pushed-object');
  });

  it('refuses a bad pushed request object with a JSON error, and a plain pushed request from a client that must sign', async () => {
    const bad = await push('jar-app', JAR_SECRET, { request: unsigned({ ...codeRequest({ client_id: 'jar-app' }), iss: 'jar-app', aud: s.issuer }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('invalid_request_object');
    const other = await push('jar-app', JAR_SECRET, { request: await requestObject('jar-strict', { iss: 'jar-app' }) });
    expect(other.json().error).toBe('invalid_request_object');
    const plain = await push('jar-strict', STRICT_SECRET, codeRequest({ client_id: 'jar-strict' }));
    expect(plain.statusCode).toBe(400);
    expect(plain.json().error).toBe('invalid_request');
  });
});

describe('discovery', () => {
  it('advertises request objects by value, PAR, and no fetching of request_uri', async () => {
    const m = (await s.app.inject('/.well-known/openid-configuration')).json();
    expect(m).toMatchObject({
      request_parameter_supported: true,
      request_uri_parameter_supported: false,
      request_object_signing_alg_values_supported: ['RS256', 'ES256', 'PS256', 'EdDSA'],
      require_signed_request_object: false,
      pushed_authorization_request_endpoint: `${s.issuer}/par`,
      require_pushed_authorization_requests: false,
    });
    expect(m.request_object_signing_alg_values_supported).not.toContain('none');
  });
});
