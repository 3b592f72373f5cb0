// Key rotation done right (issue 8, point 5), with two instances on one database: with
// TEST_DATABASE_URL each has its own pool on one PostgreSQL database, as two processes behind a
// load balancer would; on PGlite they share the embedded database.
// - `keys rotate` publishes the new key at once and it signs only after the publication delay;
// - KEY_ROTATION_DAYS rotates once across instances;
// - SECRET_KEY_PREVIOUS reseals the signing keys and keeps old cookies and forms working.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import type { CliIO } from '../../src/cli/io.js';
import { ConfigError, JWKS_MAX_AGE_SECONDS, loadEnv } from '../../src/config/env.js';
import { createContext } from '../../src/context.js';
import { scheduleKeyRotation } from '../../src/crypto/key-rotation.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { LOGIN_MARKER, loginMarker, loginRequestedAt } from '../../src/oauth/authorize/interaction.js';
import { authorizeUrl, codeRequest, decide, get, redirectParams, signedIn } from '../authorize/support.js';
import { basic, freshDatabase, SECRETS, startTestServer, TEST_DATABASE_URL, type TestServer } from '../support/harness.js';

const SECRET_KEY = 'test-secret-key-0123456789-0123456789'; // the harness's
const DELAY = loadEnv({}).KEY_PUBLICATION_DELAY_SECONDS;

/** A second handle on the same database: its own pool on PostgreSQL, the same PGlite otherwise. */
async function secondHandle(fresh: { db: Db; url?: string }): Promise<{ db: Db; close: () => Promise<void> }> {
  if (!fresh.url) return { db: fresh.db, close: async () => {} };
  const db = await openDatabase({ databaseUrl: fresh.url, poolSize: 5 });
  return { db, close: () => db.destroy() };
}

async function accessToken(s: TestServer): Promise<string> {
  const res = await s.app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('service', SECRETS.service) },
    payload: 'grant_type=client_credentials',
  });
  expect(res.statusCode).toBe(200);
  return res.json().access_token as string;
}

/** The JWKS as a relying party gets it: at the jwks_uri discovery names. */
async function fetchJwks(s: TestServer) {
  const uri = (await s.app.inject('/.well-known/openid-configuration')).json().jwks_uri as string;
  const res = await s.app.inject(new URL(uri).pathname);
  expect(res.statusCode).toBe(200);
  return { jwks: res.json() as JSONWebKeySet, cacheControl: res.headers['cache-control'] };
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
const kids = (jwks: JSONWebKeySet) => jwks.keys.map((k) => k.kid);

describe(`keys rotate with two instances on ${TEST_DATABASE_URL ? 'one PostgreSQL, a pool each' : 'one shared PGlite'}`, () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let second: Awaited<ReturnType<typeof secondHandle>>;
  let a: TestServer;
  let b: TestServer;
  // the instances' keystore clock: moved past the publication delay instead of waiting for it
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;

  beforeAll(async () => {
    fresh = await freshDatabase();
    second = await secondHandle(fresh);
    [a, b] = await Promise.all([startTestServer({ db: fresh.db, now }), startTestServer({ db: second.db, now })]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await second?.close();
    await fresh?.drop();
  });

  it('publishes the new key at once on both, signs with the old one until the publication delay has passed, then with the new one', async () => {
    const oldKid = kidOf(await accessToken(a));
    expect(kidOf(await accessToken(b))).toBe(oldKid);
    const oldToken = await accessToken(b);

    // the operator rotates from the command line, on a connection of its own
    const out: string[] = [];
    const io: CliIO = { out: (l) => out.push(l), err: (l) => out.push(l), ask: async () => '', env: { SECRET_KEY }, openDb: async () => ({ db: fresh.db, close: async () => {} }) };
    expect(await runCli(['keys', 'rotate', '--alg', 'RS256'], io)).toBe(0);
    const newKid = /^RS256: new signing key (\S+), published now, signs from \S+ \(in (\d+) s\)/.exec(out[0]!);
    expect(newKid, out.join('\n')).not.toBeNull();
    expect(Number(newKid![2])).toBe(DELAY);

    // in the JWKS of both instances at once (b has not reloaded its keys: its JWKS reads them)
    const fetchedNow = [await fetchJwks(a), await fetchJwks(b)];
    for (const { jwks } of fetchedNow) expect(kids(jwks)).toEqual(expect.arrayContaining([oldKid, newKid![1]]));
    // but no token carries its kid yet: relying parties may still hold a JWKS without it
    expect(kidOf(await accessToken(a))).toBe(oldKid);
    expect(kidOf(await accessToken(b))).toBe(oldKid);
    offsetMs = (DELAY - 5) * 1000;
    expect(kidOf(await accessToken(a))).toBe(oldKid);
    expect(kidOf(await accessToken(b))).toBe(oldKid);

    // once the delay has passed, both sign with the new key, decided from their cached rows
    offsetMs = (DELAY + 1) * 1000;
    const fromA = await accessToken(a);
    const fromB = await accessToken(b);
    expect(kidOf(fromA)).toBe(newKid![1]);
    expect(kidOf(fromB)).toBe(newKid![1]);
    // a relying party holding the JWKS fetched right after the rotation verifies them
    const cached = createLocalJWKSet(fetchedNow[1]!.jwks);
    await expect(jwtVerify(fromA, cached, { issuer: a.issuer })).resolves.toBeTruthy();
    await expect(jwtVerify(fromB, cached, { issuer: b.issuer })).resolves.toBeTruthy();
    // and the retired key stays published while its tokens may be valid
    const later = await fetchJwks(a);
    expect(kids(later.jwks)).toContain(oldKid);
    await expect(jwtVerify(oldToken, createLocalJWKSet(later.jwks), { issuer: b.issuer })).resolves.toBeTruthy();
    await expect(a.ctx.keystore.verify(oldToken, { issuer: b.issuer })).resolves.toBeTruthy();
  });

  it('lets relying parties cache the JWKS for less time than the publication delay', async () => {
    const { cacheControl } = await fetchJwks(a);
    expect(cacheControl).toBe(`public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    expect(JWKS_MAX_AGE_SECONDS).toBeLessThan(DELAY);
  });
});

describe('KEY_PUBLICATION_DELAY_SECONDS and KEY_ROTATION_DAYS at start', () => {
  it('refuses a publication delay not longer than the JWKS may be cached, with one clear line', () => {
    for (const delay of ['1', String(JWKS_MAX_AGE_SECONDS)])
      expect(() => loadEnv({ KEY_PUBLICATION_DELAY_SECONDS: delay })).toThrow(
        new ConfigError(`environment: KEY_PUBLICATION_DELAY_SECONDS must be longer than the ${JWKS_MAX_AGE_SECONDS} s relying parties may cache the JWKS for`),
      );
    expect(loadEnv({ KEY_PUBLICATION_DELAY_SECONDS: String(JWKS_MAX_AGE_SECONDS + 1) }).KEY_PUBLICATION_DELAY_SECONDS).toBe(JWKS_MAX_AGE_SECONDS + 1);
    expect(DELAY).toBe(600);
  });

  it('takes KEY_ROTATION_DAYS as whole days, off when unset', () => {
    expect(loadEnv({}).KEY_ROTATION_DAYS).toBeUndefined();
    expect(loadEnv({ KEY_ROTATION_DAYS: '90' }).KEY_ROTATION_DAYS).toBe(90);
    expect(() => loadEnv({ KEY_ROTATION_DAYS: '1.5' })).toThrow('environment: KEY_ROTATION_DAYS: must be a whole number of days from 1 to 3650');
    expect(() => loadEnv({ KEY_ROTATION_DAYS: '0' })).toThrow('environment: KEY_ROTATION_DAYS: must be a whole number of days from 1 to 3650');
    expect(() => loadEnv({ KEY_ROTATION_DAYS: '1', KEY_PUBLICATION_DELAY_SECONDS: '86400' })).toThrow('environment: KEY_ROTATION_DAYS must be longer than KEY_PUBLICATION_DELAY_SECONDS');
  });
});

describe('a first start', () => {
  it("signs at once even when this host's clock is behind the database's", async () => {
    const fresh = await freshDatabase();
    try {
      const ctx = await createContext(loadEnv({ SECRET_KEY }), fresh.db, { now: () => Date.now() - 60_000 });
      const jwt = await ctx.keystore.sign({ sub: 's' }, { alg: 'ES256' });
      expect(kids(await ctx.keystore.jwks())).toContain(kidOf(jwt));
    } finally {
      await fresh.drop();
    }
  });
});

describe('automatic rotation (KEY_ROTATION_DAYS)', () => {
  it('rotates a key older than N days once, though two instances check at the same moment; the new key waits out the delay', async () => {
    const fresh = await freshDatabase();
    const second = await secondHandle(fresh);
    try {
      const env = loadEnv({ SECRET_KEY, KEY_ROTATION_DAYS: '30', LOG_LEVEL: 'silent' });
      const [x, y] = await Promise.all([createContext(env, fresh.db), createContext(env, second.db)]);
      const rows = () => fresh.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
      const first = await rows();
      const lines: { level: string; msg: string; obj: object }[] = [];
      const log = { info: (obj: object, msg: string) => lines.push({ level: 'info', obj, msg }), warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj, msg }) };
      const run = async () => {
        const jobs = [scheduleKeyRotation(x, log)!, scheduleKeyRotation(y, log)!];
        await Promise.all(jobs.map((j) => j.firstCheck));
        for (const j of jobs) j.stop();
      };

      // off by default
      expect(scheduleKeyRotation(await createContext(loadEnv({ SECRET_KEY }), fresh.db), log)).toBeUndefined();
      // keys younger than 30 days are left alone
      await run();
      expect((await rows()).map((r) => r.kid)).toEqual(first.map((r) => r.kid));

      await fresh.db.updateTable('signing_keys').set({ created_at: new Date(Date.now() - 31 * 86_400_000) } as never).execute();
      await run();
      const after = await rows();
      expect(after).toHaveLength(4);
      for (const alg of ['RS256', 'ES256']) {
        const [old, next] = after.filter((r) => r.alg === alg);
        expect(old!.kid).toBe(first.find((r) => r.alg === alg)!.kid);
        // the new key signs after the publication delay; the old one until then
        const delay = (new Date(next!.activates_at).getTime() - Date.now()) / 1000;
        expect(delay).toBeGreaterThan(env.KEY_PUBLICATION_DELAY_SECONDS - 120);
        expect(delay).toBeLessThanOrEqual(env.KEY_PUBLICATION_DELAY_SECONDS);
        expect(new Date(old!.retired_at!).getTime()).toBe(new Date(next!.activates_at).getTime());
        // and stays published after that for the longest token lifetime plus one keystore reload
        expect((new Date(old!.publish_until!).getTime() - new Date(old!.retired_at!).getTime()) / 1000).toBe(env.ACCESS_TOKEN_TTL + 60);
      }
      expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
      expect(lines.map((l) => l.obj)).toEqual(expect.arrayContaining([expect.objectContaining({ alg: 'RS256' }), expect.objectContaining({ alg: 'ES256' })]));
      expect(lines).toHaveLength(2);
      // both instances publish the new keys and still sign with the old ones
      for (const ctx of [x, y]) {
        expect(kids(await ctx.keystore.jwks()).sort()).toEqual(after.map((r) => r.kid).sort());
        expect(kidOf(await ctx.keystore.sign({}, { alg: 'ES256' }))).toBe(first.find((r) => r.alg === 'ES256')!.kid);
      }
    } finally {
      await second.close();
      await fresh.drop();
    }
  });
});

describe('SECRET_KEY rotation (SECRET_KEY_PREVIOUS)', () => {
  const OLD = 'old-secret-key-0123456789-0123456789-0123';
  const NEW = 'new-secret-key-0123456789-0123456789-0123';

  it('reseals the signing keys at start, once with two instances starting together, and keeps a signed-in person signed in; after a restart with only the new key everything opens', async () => {
    const fresh = await freshDatabase();
    const second = await secondHandle(fresh);
    const servers: TestServer[] = [];
    try {
      const before = await startTestServer({ db: fresh.db, env: { SECRET_KEY: OLD } });
      servers.push(before);
      const oldToken = await accessToken(before);
      // a person signed in under the old key, with the consent page open: a session cookie, a
      // CSRF cookie and a consent form HMAC, all made under the old key
      const jar = await signedIn(before);
      const consent = await get(before, jar, authorizeUrl(codeRequest()));
      expect(consent.statusCode).toBe(200);
      const sealedBefore = await fresh.db.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).execute();
      for (const r of sealedBefore) expect(() => new SecretBox(OLD).open(r.private_jwk_encrypted)).not.toThrow();

      const rotating = { SECRET_KEY: NEW, SECRET_KEY_PREVIOUS: OLD };
      const [a, b] = await Promise.all([startTestServer({ db: fresh.db, env: rotating }), startTestServer({ db: second.db, env: rotating })]);
      servers.push(a, b);
      const sealed = await fresh.db.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).execute();
      expect(sealed.map((r) => r.kid).sort()).toEqual(sealedBefore.map((r) => r.kid).sort());
      for (const r of sealed) {
        expect(new SecretBox(NEW).open(r.private_jwk_encrypted)).toContain('"d"');
        expect(() => new SecretBox(OLD).open(r.private_jwk_encrypted)).toThrow();
      }

      // the person answers the page on the other instance: still signed in, the form still valid
      const allowed = await decide(b, jar, consent.body, 'allow');
      expect(allowed.statusCode, allowed.body.slice(0, 300)).toBe(303);
      expect(redirectParams(allowed).params.get('code')).toBeTruthy();
      await expect(a.ctx.keystore.verify(oldToken, { issuer: before.issuer })).resolves.toBeTruthy();

      // restart with only the new key: the keys open, old and new tokens verify
      const after = await startTestServer({ db: second.db, env: { SECRET_KEY: NEW } });
      servers.push(after);
      await expect(after.ctx.keystore.verify(oldToken, { issuer: before.issuer })).resolves.toBeTruthy();
      await expect(after.ctx.keystore.verify(await accessToken(after), { issuer: after.issuer })).resolves.toBeTruthy();
      // and a cookie made under the old key alone counts no more: SECRET_KEY_PREVIOUS was what kept it
      const again = await get(after, jar, authorizeUrl(codeRequest()));
      expect(again.statusCode).toBe(303);
      expect(again.headers.location).toMatch(/^\/login\?/);
      const stillRotating = await get(b, jar, authorizeUrl(codeRequest()));
      expect(redirectParams(stillRotating).params.get('code')).toBeTruthy();

      // during a rolling restart an instance still on the old key may add a key, sealed under
      // the old key: the instances with SECRET_KEY_PREVIOUS open it too
      const addedByOld = await before.ctx.keystore.rotate('ES256', { delaySeconds: 0, publishSeconds: 60 });
      expect(kids(await b.ctx.keystore.jwks())).toContain(addedByOld);
      const signed = await b.ctx.keystore.sign({ iss: b.issuer }, { alg: 'ES256' });
      expect(kidOf(signed)).toBe(addedByOld);
    } finally {
      for (const s of servers) await s.close();
      await second.close();
      await fresh.drop();
    }
  });

  it('refuses to start with a wrong SECRET_KEY_PREVIOUS, naming the variable, and changes nothing', async () => {
    const fresh = await freshDatabase();
    try {
      await createContext(loadEnv({ SECRET_KEY: OLD }), fresh.db);
      const sealed = await fresh.db.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).orderBy('kid').execute();
      const wrong = createContext(loadEnv({ SECRET_KEY: NEW, SECRET_KEY_PREVIOUS: 'not-the-old-key-0123456789-0123456789' }), fresh.db);
      await expect(wrong).rejects.toBeInstanceOf(ConfigError);
      await expect(wrong).rejects.toThrow(
        /^environment: SECRET_KEY_PREVIOUS: signing key \S+ opens under neither SECRET_KEY nor SECRET_KEY_PREVIOUS; set SECRET_KEY_PREVIOUS to the SECRET_KEY it was sealed with$/,
      );
      expect(await fresh.db.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).orderBy('kid').execute()).toEqual(sealed);
    } finally {
      await fresh.drop();
    }
  });

  it("accepts the login page's marker made under the previous key", () => {
    const params = codeRequest({ prompt: 'login' });
    const marked = { ...params, [LOGIN_MARKER]: loginMarker(OLD, params, Date.now() - 1000) };
    expect(loginRequestedAt([NEW, OLD], marked)).toBeTypeOf('number');
    expect(loginRequestedAt([NEW], marked)).toBeUndefined();
  });

  it('refuses SECRET_KEY_PREVIOUS without a SECRET_KEY or equal to it', () => {
    expect(() => loadEnv({ SECRET_KEY_PREVIOUS: OLD })).toThrow('environment: SECRET_KEY_PREVIOUS needs SECRET_KEY, the new key, beside it');
    expect(() => loadEnv({ SECRET_KEY: OLD, SECRET_KEY_PREVIOUS: OLD })).toThrow('environment: SECRET_KEY_PREVIOUS must differ from SECRET_KEY');
  });
});
