// Signing keys: generated at first start, kept in the database sealed under SECRET_KEY,
// published as public JWKs, rotated without breaking tokens already issued.
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { createContext, type AppContext } from '../../src/context.js';
import { Keystore } from '../../src/crypto/keystore.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import type { Db } from '../../src/db/index.js';
import { KeysRepository } from '../../src/repositories/keys.js';
import { freshDatabase } from '../support/harness.js';

const SECRET_KEY = 'keystore-test-secret-0123456789-0123456789';
const env = loadEnv({ SECRET_KEY, ISSUER: 'https://id.example.com', LOG_LEVEL: 'silent' });
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

let db: Db;
let drop: () => Promise<void>;
let ctx: AppContext;

beforeAll(async () => {
  ({ db, drop } = await freshDatabase());
  ctx = await createContext(env, db);
});
afterAll(async () => drop?.());

const rows = () => db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();

describe('keystore', () => {
  it('generates one RS256 and one ES256 key at first start, and no more on the next', async () => {
    const first = await rows();
    expect(first.map((r) => r.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(first.every((r) => r.retired_at === null)).toBe(true);
    await createContext(env, db); // a restart
    expect((await rows()).map((r) => r.kid)).toEqual(first.map((r) => r.kid));
  });

  it('publishes public JWKs with kid, alg and use, never a private member', async () => {
    const { keys } = await ctx.keystore.jwks();
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(k).toMatchObject({ use: 'sig', kid: expect.any(String) });
      expect(['RS256', 'ES256']).toContain(k.alg);
      expect(k.kty).toBe(k.alg === 'RS256' ? 'RSA' : 'EC');
      for (const m of PRIVATE_MEMBERS) expect(k, `${k.alg} has ${m}`).not.toHaveProperty(m);
    }
    const rsa = keys.find((k) => k.alg === 'RS256')!;
    expect(Buffer.from(rsa.n!, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
  });

  it('keeps private keys encrypted at rest: the column holds no key material and needs SECRET_KEY', async () => {
    for (const row of await rows()) {
      const opened = JSON.parse(new SecretBox(SECRET_KEY).open(row.private_jwk_encrypted)) as JWK;
      expect(opened.d).toBeTruthy();
      expect(row.private_jwk_encrypted).not.toContain(opened.d!);
      expect(row.private_jwk_encrypted).not.toContain('"d"');
      expect(() => new SecretBox('another-secret-key-0123456789-0123456789').open(row.private_jwk_encrypted)).toThrow();
      // nor does the public column carry a private member
      for (const m of PRIVATE_MEMBERS) expect(row.public_jwk).not.toHaveProperty(m);
    }
  });

  it('refuses to start with another SECRET_KEY, saying why', async () => {
    const other = loadEnv({ SECRET_KEY: 'another-secret-key-0123456789-0123456789' });
    await expect(createContext(other, db)).rejects.toThrow(/^signing key \S+ cannot be decrypted: SECRET_KEY is not the one it was sealed with$/);
  });

  it('signs tokens that verify against the published JWKS', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      const jwt = await ctx.keystore.sign({ iss: env.ISSUER, sub: 'x' }, { alg, typ: 'at+jwt' });
      const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await ctx.keystore.jwks()), { issuer: env.ISSUER });
      expect(payload.sub).toBe('x');
      expect(protectedHeader).toMatchObject({ alg, typ: 'at+jwt' });
    }
  });

  it('rotation signs with the new key and keeps the old one published, so old tokens still verify', async () => {
    const before = await ctx.keystore.sign({ iss: env.ISSUER, sub: 'old' }, { alg: 'RS256' });
    const oldKid = JSON.parse(Buffer.from(before.split('.')[0]!, 'base64url').toString()).kid as string;

    const newKid = await ctx.keystore.rotate('RS256', { delaySeconds: 0, publishSeconds: 3600 });
    expect(newKid).not.toBe(oldKid);
    const after = await ctx.keystore.sign({ iss: env.ISSUER, sub: 'new' }, { alg: 'RS256' });
    expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).toBe(newKid);

    const jwks = await ctx.keystore.jwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    // a relying party with the published JWKS, and our own verify, accept both
    await expect(jwtVerify(before, createLocalJWKSet(jwks))).resolves.toBeTruthy();
    await expect(jwtVerify(after, createLocalJWKSet(jwks))).resolves.toBeTruthy();
    await expect(ctx.keystore.verify(before, { issuer: env.ISSUER })).resolves.toBeTruthy();

    const old = (await rows()).find((r) => r.kid === oldKid)!;
    expect(old.retired_at).not.toBeNull();
    const window = (new Date(old.publish_until!).getTime() - new Date(old.retired_at!).getTime()) / 1000;
    expect(window).toBeCloseTo(3600, 0);
    // the ES256 key was not touched
    expect((await rows()).filter((r) => r.alg === 'ES256' && r.retired_at === null)).toHaveLength(1);
  });

  it('stops publishing a retired key once its window is over, and then refuses its tokens', async () => {
    const before = await ctx.keystore.sign({ iss: env.ISSUER }, { alg: 'ES256' });
    const oldKid = JSON.parse(Buffer.from(before.split('.')[0]!, 'base64url').toString()).kid as string;
    await ctx.keystore.rotate('ES256', { delaySeconds: 0, publishSeconds: 0 });
    expect((await ctx.keystore.jwks()).keys.map((k) => k.kid)).not.toContain(oldKid);
    await expect(ctx.keystore.verify(before, {})).rejects.toThrow('unknown signing key');
  });

  it('leaves exactly one active key per algorithm when two rotations run at once (two operators, two instances)', async () => {
    // on PostgreSQL the two run on separate pooled connections and interleave
    const other = new Keystore(new KeysRepository(db), new SecretBox(SECRET_KEY));
    await other.init(['RS256', 'ES256']);
    for (let round = 0; round < 3; round++) {
      const kids = await Promise.all([ctx.keystore.rotate('ES256', { delaySeconds: 0, publishSeconds: 60 }), other.rotate('ES256', { delaySeconds: 0, publishSeconds: 60 })]);
      const active = (await rows()).filter((r) => r.alg === 'ES256' && r.retired_at === null);
      expect(active).toHaveLength(1);
      expect(kids).toContain(active[0]!.kid);
      // both can still sign, and each other's tokens verify
      await ctx.keystore.reload();
      await other.reload();
      const jwt = await ctx.keystore.sign({ iss: env.ISSUER }, { alg: 'ES256' });
      await expect(other.verify(jwt, { issuer: env.ISSUER })).resolves.toBeTruthy();
    }
  });

  it('another keystore on the same database loads the same keys and verifies tokens it did not sign', async () => {
    const other = new Keystore(new KeysRepository(db), new SecretBox(SECRET_KEY));
    await other.init(['RS256', 'ES256']);
    expect((await other.jwks()).keys.map((k) => k.kid).sort()).toEqual((await ctx.keystore.jwks()).keys.map((k) => k.kid).sort());
    const jwt = await ctx.keystore.sign({ iss: env.ISSUER, sub: 'shared' }, { alg: 'ES256' });
    const { payload } = await other.verify(jwt, { issuer: env.ISSUER });
    expect(payload.sub).toBe('shared');
  });

  it('rejects a token with a forged signature, an unknown kid, or alg none', async () => {
    const jwt = await ctx.keystore.sign({ iss: env.ISSUER }, { alg: 'RS256' });
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: env.ISSUER, sub: 'admin' })).toString('base64url')}.${s}`;
    await expect(ctx.keystore.verify(forged, {})).rejects.toThrow();
    const unknownKid = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'nope' })).toString('base64url')}.${p}.${s}`;
    await expect(ctx.keystore.verify(unknownKid, {})).rejects.toThrow('unknown signing key');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`;
    await expect(ctx.keystore.verify(none, {})).rejects.toThrow();
  });
});
