// Access tokens signed with the algorithm the operator chose (issue 9 point 6): server-wide with
// ACCESS_TOKEN_SIGNING_ALG, per client with access_token_signed_response_alg. A resource server
// verifies them with the JWKS from discovery (jose, as it would); our own endpoints (userinfo,
// introspection, revocation) accept every algorithm we sign with.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { ALICE, basic, defaultClients, SECRETS, startTestServer, type TestServer } from '../support/harness.js';

const ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
const SECRET = 'access-token-alg-secret-0123456789-012345';

/** A password-grant client per algorithm: tokens for a user, so userinfo can answer. */
const userClient = (alg: string) =>
  clientSchema.parse({ client_id: `user-${alg}`, client_secret: SECRET, grant_types: ['password'], scope: 'openid profile', access_token_signed_response_alg: alg });
const serviceClient = (alg: string) =>
  clientSchema.parse({ client_id: `service-${alg}`, client_secret: SECRET, grant_types: ['client_credentials'], scope: 'invoices:read', access_token_signed_response_alg: alg });

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function token(s: TestServer, clientId: string, secret: string, fields: Record<string, string>): Promise<string> {
  const r = await s.app.inject({ method: 'POST', url: '/token', headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' }, payload: form(fields) });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().access_token as string;
}

const clientCredentials = (s: TestServer, clientId: string, secret = SECRET) => token(s, clientId, secret, { grant_type: 'client_credentials' });

/** The JWKS a resource server fetches: the jwks_uri of discovery. */
async function jwks(s: TestServer): Promise<JSONWebKeySet> {
  const uri = (await s.app.inject('/.well-known/openid-configuration')).json().jwks_uri as string;
  return (await s.app.inject(new URL(uri).pathname)).json() as JSONWebKeySet;
}

/** Verifies as a resource server would (RFC 9068 §4): signature by the JWKS, typ at+jwt, issuer. */
async function resourceServerVerify(s: TestServer, jwt: string) {
  return jwtVerify(jwt, createLocalJWKSet(await jwks(s)), { issuer: s.issuer, typ: 'at+jwt' });
}

describe('per client: access_token_signed_response_alg', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ clients: [...defaultClients(), ...ALGS.map(userClient), ...ALGS.map(serviceClient)] });
  });
  afterAll(async () => s?.close());

  for (const alg of ALGS) {
    it(`signs a client's access tokens with ${alg} when it registered ${alg}; they verify with the JWKS`, async () => {
      const jwt = await clientCredentials(s, `service-${alg}`);
      const { payload, protectedHeader } = await resourceServerVerify(s, jwt);
      expect(protectedHeader).toMatchObject({ alg, typ: 'at+jwt' });
      expect(payload).toMatchObject({ client_id: `service-${alg}`, sub: `service-${alg}` });
      // while a client that names none keeps the server-wide default, RS256
      expect(decodeProtectedHeader(await clientCredentials(s, 'service', SECRETS.service)).alg).toBe('RS256');
    });

    it(`accepts ${alg} access tokens at userinfo, introspection and revocation`, async () => {
      const jwt = await token(s, `user-${alg}`, SECRET, { grant_type: 'password', username: ALICE.username, password: ALICE.password, scope: 'openid profile' });
      expect(decodeProtectedHeader(jwt).alg).toBe(alg);
      const info = await s.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${jwt}` } });
      expect(info.statusCode, info.body).toBe(200);
      expect(info.json()).toMatchObject({ sub: ALICE.sub, name: 'Alice Example' });
      const introspect = () =>
        s.app.inject({ method: 'POST', url: '/introspect', headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ token: jwt }) });
      expect((await introspect()).json()).toMatchObject({ active: true, client_id: `user-${alg}`, sub: ALICE.sub });
      // revocation reads the token's jti and client from its verified claims (RFC 7009 §2.1)
      const revoked = await s.app.inject({ method: 'POST', url: '/revoke', headers: { authorization: basic(`user-${alg}`, SECRET), 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ token: jwt }) });
      expect(revoked.statusCode).toBe(200);
      expect((await introspect()).json()).toEqual({ active: false });
      expect((await s.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${jwt}` } })).statusCode).toBe(401);
    });
  }

  it('publishes a key for every algorithm in use, of the right type (Ed25519 for EdDSA, 2048-bit RSA for PS256)', async () => {
    const { keys } = await jwks(s);
    expect([...new Set(keys.map((k) => k.alg))].sort()).toEqual(['ES256', 'EdDSA', 'PS256', 'RS256']);
    expect(keys.find((k) => k.alg === 'EdDSA')).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig' });
    const ps = keys.find((k) => k.alg === 'PS256')!;
    expect(ps).toMatchObject({ kty: 'RSA', use: 'sig' });
    expect(Buffer.from(ps.n!, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
    for (const k of keys) expect(k).not.toHaveProperty('d');
  });
});

describe('server-wide: ACCESS_TOKEN_SIGNING_ALG', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { ACCESS_TOKEN_SIGNING_ALG: 'EdDSA' }, clients: [...defaultClients(), serviceClient('PS256')] });
  });
  afterAll(async () => s?.close());

  it('signs the access tokens of every client that names no algorithm with it; they verify with the JWKS', async () => {
    const jwt = await clientCredentials(s, 'service', SECRETS.service);
    expect((await resourceServerVerify(s, jwt)).protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    const r = await s.app.inject({ method: 'POST', url: '/introspect', headers: { authorization: basic('service', SECRETS.service), 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ token: jwt }) });
    expect(r.json()).toMatchObject({ active: true, client_id: 'service' });
  });

  it("a client's own choice wins over it", async () => {
    expect(decodeProtectedHeader(await clientCredentials(s, 'service-PS256')).alg).toBe('PS256');
  });

  it('leaves ID tokens to id_token_signed_response_alg (RS256 by default)', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ grant_type: 'password', client_id: 'legacy', client_secret: SECRETS.legacy, username: ALICE.username, password: ALICE.password, scope: 'openid' }),
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(decodeProtectedHeader(r.json().access_token as string).alg).toBe('EdDSA');
    expect(decodeProtectedHeader(r.json().id_token as string).alg).toBe('RS256');
  });
});
