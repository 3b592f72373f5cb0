// The database is the only state: two instances on one database publish the same JWKS and
// accept each other's tokens. With TEST_DATABASE_URL the two instances have their own pools on
// one PostgreSQL database, as two processes behind a load balancer would; on PGlite they share
// one embedded database, which still shows that keys come from the database, not the process.
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { createContext } from '../../src/context.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { basic, freshDatabase, SECRETS, startTestServer, TEST_DATABASE_URL, type TestServer } from '../support/harness.js';

/** A second handle on the same database: its own pool on PostgreSQL, the same PGlite otherwise. */
async function secondHandle(fresh: { db: Db; url?: string }): Promise<{ db: Db; close: () => Promise<void> }> {
  if (!fresh.url) return { db: fresh.db, close: async () => {} };
  const db = await openDatabase({ databaseUrl: fresh.url, poolSize: 5 });
  return { db, close: () => db.destroy() };
}

describe('two instances on one database', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let second: Awaited<ReturnType<typeof secondHandle>>;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    fresh = await freshDatabase();
    second = await secondHandle(fresh);
    // started at the same time, on an empty database: they must agree on the keys
    [a, b] = await Promise.all([startTestServer({ db: fresh.db }), startTestServer({ db: second.db })]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await second?.close();
    await fresh?.drop();
  });

  it(`run on ${TEST_DATABASE_URL ? 'PostgreSQL with a pool each' : 'one shared PGlite'}`, () => {
    expect(a.ctx.db === b.ctx.db).toBe(!TEST_DATABASE_URL);
  });

  it('publish the same JWKS', async () => {
    // the jwks_uri is whatever discovery says; never a guessed path
    const uriA = (await a.app.inject('/.well-known/openid-configuration')).json().jwks_uri as string;
    const uriB = (await b.app.inject('/.well-known/openid-configuration')).json().jwks_uri as string;
    const keysA = (await a.app.inject(new URL(uriA).pathname)).json();
    const keysB = (await b.app.inject(new URL(uriB).pathname)).json();
    expect(keysA.keys.length).toBeGreaterThanOrEqual(2);
    expect(keysB).toEqual(keysA);
  });

  it("verify each other's tokens", async () => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'invoices:read' }).toString();
    const issue = (s: TestServer) =>
      s.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('service', SECRETS.service) }, payload: body });
    const fromA = (await issue(a)).json().access_token as string;
    const fromB = (await issue(b)).json().access_token as string;
    expect(fromA).toBeTruthy();
    expect(fromB).toBeTruthy();
    // each instance's keystore accepts the other's token
    expect((await b.ctx.keystore.verify(fromA, { issuer: a.issuer })).payload.client_id).toBe('service');
    expect((await a.ctx.keystore.verify(fromB, { issuer: b.issuer })).payload.client_id).toBe('service');
    // and so does a relying party holding the JWKS of the other instance
    const jwksB = createLocalJWKSet(await b.ctx.keystore.jwks());
    await expect(jwtVerify(fromA, jwksB, { issuer: a.issuer })).resolves.toBeTruthy();
  });

  it('see a key rotated by the other instance at once for verification', async () => {
    await a.ctx.keystore.rotate('RS256', { delaySeconds: 0, publishSeconds: 3600 });
    const body = new URLSearchParams({ grant_type: 'client_credentials' }).toString();
    const r = await a.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('service', SECRETS.service) }, payload: body });
    const token = r.json().access_token as string;
    // b has not reloaded yet; an unknown kid makes it reload once
    expect((await b.ctx.keystore.verify(token, { issuer: a.issuer })).payload.client_id).toBe('service');
  });
});

describe('a first start on an empty shared database', () => {
  it('two concurrent starts create one key per algorithm and agree on the generated SECRET_KEY', async () => {
    const fresh = await freshDatabase();
    const second = await secondHandle(fresh);
    try {
      // no SECRET_KEY: development generates one and keeps it in the database
      const env = loadEnv({ LOG_LEVEL: 'silent' });
      const [x, y] = await Promise.all([createContext(env, fresh.db), createContext(env, second.db)]);
      const rows = await fresh.db.selectFrom('signing_keys').select(['alg', 'kid']).execute();
      expect(rows.map((r) => r.alg).sort()).toEqual(['ES256', 'RS256']);
      expect(x.secretKey).toBe(y.secretKey);
      expect((await x.keystore.jwks()).keys.map((k) => k.kid).sort()).toEqual((await y.keystore.jwks()).keys.map((k) => k.kid).sort());
      const jwt = await x.keystore.sign({ sub: 's' }, { alg: 'ES256' });
      expect((await y.keystore.verify(jwt, {})).payload.sub).toBe('s');
    } finally {
      await second.close();
      await fresh.drop();
    }
  });
});
