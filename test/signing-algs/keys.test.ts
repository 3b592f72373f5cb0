// Keys for every signing algorithm in use (issue 9 point 6): the keystore makes one for each
// algorithm the configuration or a registered client needs, at start and when the registry is
// synced again, once across instances; `keys rotate` and KEY_ROTATION_DAYS rotate every one in
// use. A bad algorithm in the registry or the environment stops the start with one line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, start, syncClients } from '../../src/bootstrap.js';
import { runCli } from '../../src/cli/index.js';
import type { CliIO } from '../../src/cli/io.js';
import { clientSchema, parseRegistry } from '../../src/config/clients.js';
import { loadEnv } from '../../src/config/env.js';
import { createContext, type AppContext } from '../../src/context.js';
import { rotateDueKeys } from '../../src/crypto/key-rotation.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { RegistryReloader } from '../../src/operations/registry-reload.js';
import { configRefusal } from '../config/refusal.js';
import { defaultClients, freshDatabase, TEST_DATABASE_URL } from '../support/harness.js';

const SECRET_KEY = 'signing-algs-secret-key-0123456789-0123456789';
const env = loadEnv({ SECRET_KEY, ISSUER: 'https://id.example.com', LOG_LEVEL: 'silent' });
const SECRET = 'signing-algs-client-secret-0123456789-0123';

const withAlgs = (ps: 'access' | 'id', alg: string) =>
  clientSchema.parse({
    client_id: `${ps}-${alg}`,
    client_secret: SECRET,
    grant_types: ['client_credentials'],
    ...(ps === 'access' ? { access_token_signed_response_alg: alg } : { id_token_signed_response_alg: alg }),
  });

/** A second handle on the same database, as a second instance has: its own pool on PostgreSQL. */
async function secondHandle(fresh: { db: Db; url?: string }): Promise<{ db: Db; close: () => Promise<void> }> {
  if (!fresh.url) return { db: fresh.db, close: async () => {} };
  const db = await openDatabase({ databaseUrl: fresh.url, poolSize: 5 });
  return { db, close: () => db.destroy() };
}

describe(`keys for the algorithms in use, two instances on ${TEST_DATABASE_URL ? 'one PostgreSQL' : 'one PGlite'}`, () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let second: Awaited<ReturnType<typeof secondHandle>>;
  let a: AppContext;
  let b: AppContext;
  const rows = () => fresh.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
  const activeAlgs = async () => (await rows()).filter((r) => r.retired_at === null).map((r) => r.alg).sort();

  beforeAll(async () => {
    fresh = await freshDatabase();
    second = await secondHandle(fresh);
    [a, b] = await Promise.all([createContext(env, fresh.db), createContext(env, second.db)]);
    await syncClients(a, defaultClients());
  });
  afterAll(async () => {
    await second?.close();
    await fresh?.drop();
  });

  it('adds one key for a new algorithm when two instances sync a registry that names it at the same moment', async () => {
    // before: RS256 and ES256 only, no key that nobody asked for
    expect(await activeAlgs()).toEqual(['ES256', 'RS256']);
    expect((await a.keystore.jwks()).keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    const registry = [...defaultClients(), withAlgs('access', 'PS256'), withAlgs('id', 'EdDSA')];
    await Promise.all([syncClients(a, registry), syncClients(b, registry)]);
    expect(await activeAlgs()).toEqual(['ES256', 'EdDSA', 'PS256', 'RS256']);
    // both publish and sign with the same keys at once, without a restart
    for (const ctx of [a, b]) {
      const published = (await ctx.keystore.jwks()).keys;
      expect(published.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA', 'PS256', 'RS256']);
      for (const alg of ['PS256', 'EdDSA'] as const) {
        const jwt = await ctx.keystore.sign({ iss: env.ISSUER, sub: 's' }, { alg });
        expect(decodeProtectedHeader(jwt)).toMatchObject({ alg, kid: published.find((k) => k.alg === alg)!.kid });
        // and each verifies what the other signed
        await expect((ctx === a ? b : a).keystore.verify(jwt, { issuer: env.ISSUER })).resolves.toBeTruthy();
      }
    }
  });

  it('makes a missing key when asked to sign with an algorithm no sync has seen yet (a registry reloaded elsewhere)', async () => {
    const fresh2 = await freshDatabase();
    try {
      const ctx = await createContext(env, fresh2.db);
      const jwt = await ctx.keystore.sign({ sub: 's' }, { alg: 'EdDSA' });
      expect((await ctx.keystore.jwks()).keys.find((k) => k.alg === 'EdDSA')!.kid).toBe(decodeProtectedHeader(jwt).kid);
    } finally {
      await fresh2.drop();
    }
  });

  it('KEY_ROTATION_DAYS rotates every algorithm in use, the registry\'s included', async () => {
    const before = await rows();
    await fresh.db.updateTable('signing_keys').set({ created_at: new Date(Date.now() - 31 * 86_400_000) } as never).execute();
    const rotated = await rotateDueKeys(a, 30);
    expect(rotated.map((r) => r.alg).sort()).toEqual(['ES256', 'EdDSA', 'PS256', 'RS256']);
    const after = await rows();
    for (const { alg, kid } of rotated) {
      expect(after.find((r) => r.kid === kid)).toMatchObject({ alg, retired_at: null });
      // the key it replaces is retired when the new one starts signing
      const old = after.find((r) => r.alg === alg && before.some((x) => x.kid === r.kid))!;
      expect(new Date(old.retired_at!).getTime()).toBe(new Date(after.find((r) => r.kid === kid)!.activates_at).getTime());
    }
  });

  it('`keys rotate` rotates every algorithm in use by default, and any one with --alg', async () => {
    const out: string[] = [];
    const io: CliIO = { out: (l) => out.push(l), err: (l) => out.push(l), ask: async () => '', env: { SECRET_KEY }, openDb: async () => ({ db: fresh.db, close: async () => {} }) };
    expect(await runCli(['keys', 'rotate'], io), out.join('\n')).toBe(0);
    expect(out.map((l) => /^(\S+): new signing key/.exec(l)?.[1]).filter(Boolean).sort()).toEqual(['ES256', 'EdDSA', 'PS256', 'RS256']);
    out.length = 0;
    expect(await runCli(['keys', 'rotate', '--alg', 'EdDSA'], io), out.join('\n')).toBe(0);
    expect(out[0]).toMatch(/^EdDSA: new signing key \S+, published now/);
    expect(await activeAlgs()).toEqual(['ES256', 'EdDSA', 'PS256', 'RS256']);
  });
});

describe('the start and a SIGHUP reload', () => {
  it('make the key of every algorithm the registry names before the clients are synced', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'signing-algs-'));
    const CLIENTS_FILE = path.join(dir, 'clients.json');
    const USERS_FILE = path.join(dir, 'users.json');
    const service = (alg: string) => ({ client_id: `svc-${alg}`, client_secret: SECRET, grant_types: ['client_credentials'], access_token_signed_response_alg: alg });
    writeFileSync(CLIENTS_FILE, JSON.stringify({ clients: [service('PS256')] }));
    writeFileSync(USERS_FILE, JSON.stringify({ users: [] }));
    const source = { SECRET_KEY, CLIENTS_FILE, USERS_FILE, LOG_LEVEL: 'silent' };
    const fresh = await freshDatabase();
    try {
      const ctx = await start(loadConfig(source), { db: fresh.db });
      const algs = async () => (await ctx.keystore.jwks()).keys.map((k) => k.alg).sort();
      expect(await algs()).toEqual(['ES256', 'PS256', 'RS256']);
      writeFileSync(CLIENTS_FILE, JSON.stringify({ clients: [service('PS256'), service('EdDSA')] }));
      const lines: string[] = [];
      const log = { info: (_o: object, msg: string) => lines.push(msg), error: (_o: object, msg: string) => lines.push(msg) } as unknown as FastifyBaseLogger;
      await new RegistryReloader(ctx, log, source).reload('SIGHUP');
      expect(lines).toEqual(['registry reloaded']);
      expect(await algs()).toEqual(['ES256', 'EdDSA', 'PS256', 'RS256']);
    } finally {
      await fresh.drop();
    }
  });
});

describe('refusals', () => {
  const registry = (extra: Record<string, unknown>) => () =>
    parseRegistry(JSON.stringify({ clients: [{ client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], ...extra }] }), 'clients.json', { production: false, env: {} });

  it('refuses an algorithm a client cannot have, with one line naming the client and field', () => {
    expect(configRefusal(registry({ access_token_signed_response_alg: 'HS256' }), 'HS256')).toBe(
      'clients.json: clients[0].access_token_signed_response_alg: must be one of RS256, PS256, ES256, EdDSA',
    );
    expect(configRefusal(registry({ id_token_signed_response_alg: 'none' }), 'none')).toBe('clients.json: clients[0].id_token_signed_response_alg: must be one of RS256, PS256, ES256, EdDSA');
    expect(registry({ access_token_signed_response_alg: 'EdDSA', id_token_signed_response_alg: 'PS256' })()[0]).toMatchObject({ access_token_signed_response_alg: 'EdDSA', id_token_signed_response_alg: 'PS256' });
  });

  it('refuses a bad ACCESS_TOKEN_SIGNING_ALG with one line; RS256 by default', () => {
    expect(configRefusal(() => loadEnv({ ACCESS_TOKEN_SIGNING_ALG: 'HS256' }), 'HS256')).toBe('environment: ACCESS_TOKEN_SIGNING_ALG: must be one of RS256, PS256, ES256, EdDSA');
    expect(loadEnv({}).ACCESS_TOKEN_SIGNING_ALG).toBe('RS256');
    expect(loadEnv({ ACCESS_TOKEN_SIGNING_ALG: 'ES256' }).ACCESS_TOKEN_SIGNING_ALG).toBe('ES256');
  });
});
