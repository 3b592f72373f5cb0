// Never a 500 for bad input (issue 2 point 8): the back-channel endpoints answer malformed
// requests with a 4xx in the RFC 6749 §5.2 shape, the /device page with an HTML page; neither
// ever shows a stack trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

/** RFC 6749 §5.2: error is one code, error_description limited to %x20-21 / %x23-5B / %x5D-7E. */
const ERROR_CODE = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
const STACK = /\n\s+at |\.ts:\d+|node_modules/;

const FORM = 'application/x-www-form-urlencoded';
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

interface BadRequest {
  what: string;
  headers?: Record<string, string>;
  payload?: string;
}

const badRequests: BadRequest[] = [
  { what: 'no body, no content type' },
  { what: 'an empty form', headers: { 'content-type': FORM }, payload: '' },
  { what: 'malformed JSON', headers: { 'content-type': 'application/json' }, payload: '{"token":' },
  { what: 'a JSON body', headers: { 'content-type': 'application/json' }, payload: '{"token":{"a":1},"client_id":["tv"],"grant_type":null}' },
  { what: 'a JSON array', headers: { 'content-type': 'application/json' }, payload: '[1,2,3]' },
  { what: 'text/plain', headers: { 'content-type': 'text/plain' }, payload: 'token=x' },
  { what: 'an unknown content type', headers: { 'content-type': 'application/x-made-up' }, payload: 'x' },
  { what: 'a body over the size limit', headers: { 'content-type': FORM }, payload: `token=${'a'.repeat(70 * 1024)}` },
  { what: 'repeated parameters', headers: { 'content-type': FORM }, payload: 'client_id=tv&client_id=spa&token=a&token=b&grant_type=a&grant_type=b' },
  { what: 'bracketed parameter names', headers: { 'content-type': FORM }, payload: 'client_id[]=tv&token[a]=x&grant_type[]=password' },
  { what: 'bad percent-encoding', headers: { 'content-type': FORM }, payload: 'client_id=%zz&token=%ff%fe%&grant_type=%' },
  { what: 'control characters and a very long client_id', headers: { 'content-type': FORM }, payload: `client_id=${encodeURIComponent(`tv\u0000\r\n${'x'.repeat(5000)}`)}&token=%00` },
  { what: 'a malformed Basic header', headers: { 'content-type': FORM, authorization: 'Basic !!!not-base64!!!' }, payload: 'token=x&grant_type=client_credentials' },
  { what: 'a Basic header without a colon', headers: { 'content-type': FORM, authorization: `Basic ${b64('service')}` }, payload: 'token=x&grant_type=client_credentials' },
  { what: 'a Basic header with bad percent-encoding', headers: { 'content-type': FORM, authorization: `Basic ${b64('%zz:%zz')}` }, payload: 'token=x&grant_type=client_credentials' },
  { what: 'a Basic header with non-UTF-8 bytes', headers: { 'content-type': FORM, authorization: `Basic ${b64('serv\xffice:\xfe\xff')}` }, payload: 'token=x&grant_type=client_credentials' },
  { what: 'a Bearer header instead of client authentication', headers: { 'content-type': FORM, authorization: 'Bearer abc.def.ghi' }, payload: 'token=x&grant_type=client_credentials' },
  { what: 'two client authentication methods', headers: { 'content-type': FORM, authorization: `Basic ${b64(`service:${SECRETS.service}`)}` }, payload: `client_secret=${SECRETS.service}&token=x&grant_type=client_credentials` },
  { what: 'a garbage client assertion', headers: { 'content-type': FORM }, payload: 'client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c&token=x&grant_type=client_credentials' },
  { what: 'a client assertion of the wrong type', headers: { 'content-type': FORM }, payload: 'client_assertion_type=x&client_assertion=eyJhbGciOiJub25lIn0.eyJzdWIiOiJzZXJ2aWNlIn0.&token=x' },
];

/** Requests a valid client would send but with broken values, per endpoint. */
const authenticated = { 'content-type': FORM, authorization: `Basic ${b64(`service:${SECRETS.service}`)}` };
const endpointSpecific: Record<string, BadRequest[]> = {
  '/token': [
    { what: 'an unknown grant_type', headers: authenticated, payload: 'grant_type=%00%ff' },
    { what: 'a scope with a control character', headers: authenticated, payload: 'grant_type=client_credentials&scope=%00%0a' },
    { what: 'a resource that is not a URI', headers: authenticated, payload: 'grant_type=client_credentials&resource=%%%&resource=' },
    { what: 'a device_code of another shape', headers: { 'content-type': FORM }, payload: `grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=tv&device_code=${'x'.repeat(10_000)}` },
    { what: 'a refresh token that is a JWT', headers: { 'content-type': FORM }, payload: 'grant_type=refresh_token&client_id=tv&refresh_token=a.b.c' },
    { what: 'a password grant with huge values', headers: { 'content-type': FORM }, payload: `grant_type=password&client_id=legacy&client_secret=${SECRETS.legacy}&username=${'u'.repeat(20_000)}&password=%00` },
  ],
  '/revoke': [
    { what: 'a token of a few dots', headers: authenticated, payload: 'token=...&token_type_hint=%00' },
    { what: 'a JWT whose parts are not base64url JSON', headers: authenticated, payload: 'token=e30.bm90IGpzb24.x' },
  ],
  '/introspect': [
    { what: 'a token of a few dots', headers: authenticated, payload: 'token=...&token_type_hint=access_token' },
    { what: 'a JWT with alg none', headers: authenticated, payload: `token=${b64('{"alg":"none"}')}.${b64('{"sub":"x"}')}.` },
  ],
  '/device_authorization': [{ what: 'a scope with a control character', headers: { 'content-type': FORM }, payload: 'client_id=tv&scope=%00%0a%20' }],
};

function expectOAuthRefusal(r: { statusCode: number; headers: Record<string, unknown>; body: string }, label: string) {
  expect(r.statusCode, `${label}: ${r.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(r.statusCode, `${label}: ${r.body.slice(0, 200)}`).toBeLessThan(500);
  expect(String(r.headers['content-type']), label).toMatch(/^application\/json/);
  const body = JSON.parse(r.body) as { error: unknown; error_description: unknown };
  expect(body.error, label).toMatch(/^[a-z_]+$/);
  expect(body.error_description, label).toMatch(ERROR_CODE);
  expect(r.body, label).not.toMatch(STACK);
}

describe('back-channel endpoints refuse bad input with a 4xx in the RFC 6749 §5.2 shape', () => {
  for (const url of ['/token', '/revoke', '/introspect', '/device_authorization']) {
    it(`${url}`, async () => {
      for (const bad of [...badRequests, ...(endpointSpecific[url] ?? [])]) {
        const r = await s.app.inject({ method: 'POST', url, headers: bad.headers ?? {}, payload: bad.payload });
        // /revoke answers 200 to a token it does not know (RFC 7009 §2.2), with an empty body
        if (url === '/revoke' && r.statusCode === 200) {
          expect(r.body, `${url} ${bad.what}`).toBe('');
          continue;
        }
        // introspection of a token it does not know is {"active":false} (RFC 7662 §2.2)
        if (url === '/introspect' && r.statusCode === 200) {
          expect(r.body, `${url} ${bad.what}`).toBe('{"active":false}');
          continue;
        }
        expectOAuthRefusal(r, `${url} ${bad.what}`);
      }
    });
  }
});

describe('the /device page refuses bad input with an HTML page', () => {
  const page = (r: { statusCode: number; headers: Record<string, unknown>; body: string }, label: string) => {
    expect(r.statusCode, label).toBeLessThan(500);
    expect(String(r.headers['content-type']), label).toMatch(/^text\/html/);
    expect(r.body, label).not.toMatch(STACK);
  };

  it('GET with odd user_code values', async () => {
    for (const query of ['user_code=a&user_code=b', 'user_code[]=x', 'user_code=%zz', 'user_code=%00%ff', `user_code=${'B'.repeat(10_000)}`, 'user_code=%F0%9F%92%A9'])
      page(await s.app.inject({ method: 'GET', url: `/device?${query}` }), `GET /device?${query.slice(0, 40)}`);
  });

  it('POST with bodies of every wrong kind', async () => {
    for (const bad of badRequests) {
      const r = await s.app.inject({ method: 'POST', url: '/device', headers: bad.headers ?? {}, payload: bad.payload });
      expect(r.statusCode, bad.what).toBeGreaterThanOrEqual(400);
      page(r, `POST /device ${bad.what}`);
    }
  });
});

describe('back-channel bodies are form-encoded (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1, RFC 8628 §3.1)', () => {
  const valid: Record<string, Record<string, string>> = {
    '/token': { grant_type: 'client_credentials' },
    '/revoke': { token: 'x' },
    '/introspect': { token: 'x' },
    '/device_authorization': { client_id: 'tv' },
  };
  it.each(Object.keys(valid))('%s refuses the same parameters as JSON with invalid_request, and takes them as a form', async (url) => {
    const headers = url === '/device_authorization' ? {} : { authorization: authenticated.authorization };
    const asJson = await s.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(valid[url]) });
    expect(asJson.statusCode).toBe(400);
    expect(asJson.json()).toEqual({ error: 'invalid_request', error_description: 'the request body must be application/x-www-form-urlencoded' });
    const asForm = await s.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': `${FORM}; charset=UTF-8` }, payload: new URLSearchParams(valid[url]).toString() });
    expect(asForm.statusCode).toBe(200);
  });
});
