// Pushed authorization requests (RFC 9126, issue 9 point 1): the endpoint, the one-time,
// short-lived, client-bound request_uri kept as SHA-256, its use at /authorize through the
// login and consent pages, and require_pushed_authorization_requests per client and server-wide.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { sha256 } from '../../src/crypto/hash.js';
import { redactUrl } from '../../src/logger.js';
import { ALICE, basic, defaultClients, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { authorizeUrl, codeRequest, decide, ERROR_DESCRIPTION, get, Jar, logInThroughPage, redirectParams, signedIn } from './support.js';

const PAR_SECRET = 'par-app-secret-0123456789-0123456789-0123';
/** requires PAR; one redirect URI, so errors can reach it even when the request names none */
const PAR_APP = clientSchema.parse({
  client_id: 'par-app',
  client_secret: PAR_SECRET,
  client_name: 'PAR app',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code'],
  scope: 'openid profile email',
  skip_consent: true,
  require_pushed_authorization_requests: true,
});
const URN = /^urn:ietf:params:oauth:request_uri:[\w-]{43}$/;

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ clients: [...defaultClients(), PAR_APP] });
});
afterAll(async () => s?.close());

/** `auth` null: no Authorization header (a public client, or none at all) */
function push(body: Record<string, string>, auth: string | null = basic('web', SECRETS.web), server = s): Promise<LightMyRequestResponse> {
  return server.app.inject({
    method: 'POST',
    url: '/par',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    payload: new URLSearchParams(body).toString(),
  });
}

async function pushed(body: Record<string, string>, auth?: string | null): Promise<string> {
  const r = await push(body, auth);
  expect(r.statusCode, r.body).toBe(201);
  return r.json().request_uri as string;
}

/** What a client sends to /authorize after PAR (RFC 9126 §4): client_id and request_uri only. */
const byReference = (client_id: string, request_uri: string) => authorizeUrl({ client_id, request_uri });

function expectJsonError(r: LightMyRequestResponse, error: string, status = 400) {
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.headers.location).toBeUndefined();
  expect(r.json().error).toBe(error);
  expect(r.json().error_description).toMatch(ERROR_DESCRIPTION);
}

describe('the pushed authorization request endpoint', () => {
  it('answers 201 with a request_uri and expires_in, not cacheable, and keeps only its SHA-256', async () => {
    const r = await push(codeRequest());
    expect(r.statusCode).toBe(201);
    expect(r.headers['cache-control']).toBe('no-store');
    const body = r.json();
    expect(body.request_uri).toMatch(URN);
    expect(body.expires_in).toBe(60);
    const rows = await s.ctx.db.selectFrom('pushed_authorization_requests').selectAll().execute();
    const random = (body.request_uri as string).split(':').pop()!;
    expect(JSON.stringify(rows)).not.toContain(random);
    expect(rows.map((row) => row.request_uri_hash)).toContain(sha256(body.request_uri));
  });

  it('authenticates the client as /token does', async () => {
    expectJsonError(await push(codeRequest(), basic('web', 'wrong-secret-0123456789-0123456789-0123')), 'invalid_client', 401);
    expectJsonError(await push(codeRequest(), null), 'invalid_client', 401);
    // another client's id in the body than the authenticated one
    expectJsonError(await push(codeRequest({ client_id: 'spa' })), 'invalid_client', 401);
    // a public client sends its client_id (RFC 9126 §2)
    const r = await push(codeRequest({ client_id: 'spa', redirect_uri: 'http://localhost:5173/cb' }), null);
    expect(r.statusCode, r.body).toBe(201);
  });

  it('lets a single-page app (public client) push from its registered origin (CORS), and no other origin', async () => {
    const preflight = (origin: string) =>
      s.app.inject({ method: 'OPTIONS', url: '/par', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect((await preflight('http://localhost:5173')).headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    const r = await s.app.inject({
      method: 'POST',
      url: '/par',
      headers: { origin: 'http://localhost:5173', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(codeRequest({ client_id: 'spa', redirect_uri: 'http://localhost:5173/cb' })).toString(),
    });
    expect(r.statusCode).toBe(201);
    expect(r.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('validates the pushed request as /authorize would, answering JSON errors and never redirecting', async () => {
    const cases: [Record<string, string | undefined>, string][] = [
      [{ redirect_uri: 'https://evil.example.com/cb' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'admin' }, 'invalid_scope'],
      [{ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
      [{ prompt: 'sometimes' }, 'invalid_request'],
      [{ claims: '{not json' }, 'invalid_request'],
      // RFC 9126 §2.1: request_uri must not be pushed
      [{ request_uri: 'urn:ietf:params:oauth:request_uri:abc' }, 'invalid_request'],
      [{ request: 'not-a-jwt' }, 'invalid_request_object'],
    ];
    const stored = async () => (await s.ctx.db.selectFrom('pushed_authorization_requests').select('request_uri_hash').execute()).length;
    const before = await stored();
    for (const [over, error] of cases) expectJsonError(await push(codeRequest(over)), error);
    // a client not registered for the code flow (RFC 6749 §4.1.2.1)
    expectJsonError(await push(codeRequest({ client_id: 'implicit', redirect_uri: 'https://implicit.example.com/cb' }), null), 'unauthorized_client');
    // nothing was stored for any of them
    expect(await stored()).toBe(before);
  });

  it('refuses bad input with an OAuth error, never a 500', async () => {
    const json = await s.app.inject({ method: 'POST', url: '/par', headers: { 'content-type': 'application/json', authorization: basic('web', SECRETS.web) }, payload: JSON.stringify(codeRequest()) });
    expectJsonError(json, 'invalid_request');
    const repeated = await s.app.inject({
      method: 'POST',
      url: '/par',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('web', SECRETS.web) },
      payload: `${new URLSearchParams(codeRequest())}&scope=openid`,
    });
    expectJsonError(repeated, 'invalid_request');
    const empty = await s.app.inject({ method: 'POST', url: '/par', headers: { authorization: basic('web', SECRETS.web) } });
    expect(empty.statusCode).toBeLessThan(500);
    for (const request of ['a.b.c', 'eyJhbGciOiJub25lIn0.e30.', '....', 'x'.repeat(5000)]) {
      const r = await push(codeRequest({ request }));
      expect(r.statusCode, request.slice(0, 20)).toBe(400);
      expect(r.json().error).toBe('invalid_request_object');
    }
  });
});

describe('request_uri at /authorize', () => {
  it('stands for the pushed parameters: the code goes to the pushed redirect_uri with the pushed state', async () => {
    const req = codeRequest({ redirect_uri: 'https://app.example.com/cb' });
    const uri = await pushed(req);
    const jar = await signedIn(s);
    await s.ctx.repos.consents.grant(ALICE.sub, 'web', ['openid', 'profile', 'email']);
    // parameters beside request_uri are not the request's (RFC 9126 §4)
    const res = await get(s, jar, `${byReference('web', uri)}&state=not-the-pushed-one&redirect_uri=${encodeURIComponent(REDIRECT)}`);
    expect(res.statusCode).toBe(303);
    const r = redirectParams(res);
    expect(r.url.href.startsWith('https://app.example.com/cb?')).toBe(true);
    expect(r.params.get('code')).toBeTruthy();
    expect(r.params.get('state')).toBe(req.state);
  });

  it('is not written to the request log, nor is a request object', () => {
    const logged = redactUrl('/authorize?client_id=par-app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc&request=eyJhbGciOiJFUzI1NiJ9.e30.sig');
    expect(logged).toBe('/authorize?client_id=par-app&request_uri=%5Bredacted%5D&request=%5Bredacted%5D');
  });

  it('is one-time: a second use is invalid_request_uri, and the row is gone', async () => {
    const req = codeRequest({ client_id: 'par-app' });
    const uri = await pushed(req, basic('par-app', PAR_SECRET));
    const jar = await signedIn(s);
    const first = redirectParams(await get(s, jar, byReference('par-app', uri)));
    expect(first.params.get('code')).toBeTruthy();
    const again = await get(s, jar, byReference('par-app', uri));
    const r = redirectParams(again);
    expect(r.url.href.startsWith(REDIRECT)).toBe(true);
    expect(r.params.get('error')).toBe('invalid_request_uri');
    expect(r.params.get('code')).toBeNull();
    expect(await s.ctx.db.selectFrom('pushed_authorization_requests').select('client_id').where('request_uri_hash', '=', sha256(uri)).execute()).toEqual([]);
  });

  it('of two concurrent uses, exactly one gets a code', async () => {
    const uri = await pushed(codeRequest({ client_id: 'par-app' }), basic('par-app', PAR_SECRET));
    const jar = await signedIn(s);
    const both = await Promise.all([get(s, jar, byReference('par-app', uri)), get(s, jar, byReference('par-app', uri))]);
    const codes = both.map((res) => redirectParams(res).params.get('code')).filter(Boolean);
    expect(codes).toHaveLength(1);
  });

  it('is refused once expired', async () => {
    const uri = await pushed(codeRequest({ client_id: 'par-app' }), basic('par-app', PAR_SECRET));
    await s.ctx.db
      .updateTable('pushed_authorization_requests')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('request_uri_hash', '=', sha256(uri))
      .execute();
    const r = redirectParams(await get(s, await signedIn(s), byReference('par-app', uri)));
    expect(r.params.get('error')).toBe('invalid_request_uri');
  });

  it("is bound to its client: another client cannot use it, and that does not spend it", async () => {
    const uri = await pushed(codeRequest());
    const jar = await signedIn(s);
    const stolen = redirectParams(await get(s, jar, byReference('par-app', uri)));
    expect(stolen.params.get('error')).toBe('invalid_request_uri');
    expect(stolen.params.get('code')).toBeNull();
    await s.ctx.repos.consents.grant(ALICE.sub, 'web', ['openid', 'profile', 'email']);
    const own = redirectParams(await get(s, jar, byReference('web', uri)));
    expect(own.params.get('code')).toBeTruthy();
  });

  it('without client_id, or with a request_uri we did not issue, is refused', async () => {
    const uri = await pushed(codeRequest());
    const page = await get(s, new Jar(), authorizeUrl({ request_uri: uri }));
    expect(page.statusCode).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('invalid_request');
    const remote = redirectParams(await get(s, new Jar(), authorizeUrl({ client_id: 'par-app', request_uri: 'https://app.example.com/request.jwt' })));
    expect(remote.params.get('error')).toBe('request_uri_not_supported');
    for (const bad of ['urn:ietf:params:oauth:request_uri:', 'urn:ietf:params:oauth:request_uri:%00', 'x'.repeat(3000)]) {
      const res = await get(s, new Jar(), authorizeUrl({ client_id: 'par-app', request_uri: bad }));
      expect(res.statusCode, bad.slice(0, 40)).toBeLessThan(500);
    }
  });

  it('survives the login and consent pages: spent at the first visit, the pushed request is answered after them', async () => {
    const req = codeRequest({ scope: 'openid profile email phone' });
    const uri = await pushed(req);
    const jar = new Jar();
    const toLogin = await get(s, jar, byReference('web', uri));
    expect(toLogin.statusCode).toBe(303);
    expect(toLogin.headers.location).toMatch(/^\/login\?/);
    // spent already: the request now travels like any other
    expect(await s.ctx.db.selectFrom('pushed_authorization_requests').select('client_id').where('request_uri_hash', '=', sha256(uri)).execute()).toEqual([]);
    const back = await logInThroughPage(s, jar, toLogin.headers.location as string);
    const consent = await get(s, jar, back.headers.location as string);
    expect(consent.statusCode).toBe(200);
    expect(consent.body).toContain('phone');
    const done = redirectParams(await decide(s, jar, consent.body, 'allow'));
    expect(done.url.href.startsWith(`${REDIRECT}?`)).toBe(true);
    expect(done.params.get('code')).toBeTruthy();
    expect(done.params.get('state')).toBe(req.state);
  });

  it('a client requiring PAR is still refused when the carried parameters are edited on the way back from login', async () => {
    const uri = await pushed(codeRequest({ client_id: 'par-app' }), basic('par-app', PAR_SECRET));
    const jar = new Jar();
    const toLogin = await get(s, jar, byReference('par-app', uri));
    const back = await logInThroughPage(s, jar, toLogin.headers.location as string);
    const returnTo = new URL(back.headers.location as string, 'http://localhost:3000');
    returnTo.searchParams.set('scope', 'openid profile email offline_access');
    const edited = await get(s, jar, `${returnTo.pathname}${returnTo.search}`);
    expect(edited.statusCode).toBe(400);
    expect(edited.headers.location).toBeUndefined();
    // and unedited, it goes through
    const ok = redirectParams(await get(s, jar, back.headers.location as string));
    expect(ok.params.get('code')).toBeTruthy();
  });
});

describe('require_pushed_authorization_requests', () => {
  it('per client: a request sent directly to /authorize is refused with invalid_request', async () => {
    const req = codeRequest({ client_id: 'par-app' });
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(req)));
    expect(r.params.get('error')).toBe('invalid_request');
    expect(r.params.get('error_description')).toMatch(/push/);
    expect(r.params.get('state')).toBe(req.state);
    // other clients are not affected
    await s.ctx.repos.consents.grant(ALICE.sub, 'web', ['openid', 'profile', 'email']);
    expect(redirectParams(await get(s, await signedIn(s), authorizeUrl(codeRequest()))).params.get('code')).toBeTruthy();
  });

  it('server-wide (REQUIRE_PUSHED_AUTHORIZATION_REQUESTS=true): every client must push, and discovery says so', async () => {
    const strict = await startTestServer({ env: { REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'true', PUSHED_AUTHORIZATION_REQUEST_TTL: '30' } });
    try {
      const meta = (await strict.app.inject('/.well-known/openid-configuration')).json();
      expect(meta.require_pushed_authorization_requests).toBe(true);
      await strict.ctx.repos.consents.grant(ALICE.sub, 'web', ['openid', 'profile', 'email']);
      const jar = await signedIn(strict);
      const direct = redirectParams(await get(strict, jar, authorizeUrl(codeRequest())));
      expect(direct.params.get('error')).toBe('invalid_request');
      const r = await push(codeRequest(), basic('web', SECRETS.web), strict);
      expect(r.json().expires_in).toBe(30);
      const viaPar = redirectParams(await get(strict, jar, byReference('web', r.json().request_uri)));
      expect(viaPar.params.get('code')).toBeTruthy();
    } finally {
      await strict.close();
    }
    expect((await s.app.inject('/.well-known/openid-configuration')).json().require_pushed_authorization_requests).toBe(false);
  });
});
