// Issue 8 point 3: every instance on one database sees a registry reload within seconds, made
// by another instance (SIGHUP) or by `npm run cli -- clients sync`. With TEST_DATABASE_URL the
// instances and the command have a pool each on one PostgreSQL database, as separate processes
// would; on PGlite they share one embedded database but keep their own client caches.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import type { CliIO } from '../../src/cli/io.js';
import { openDatabase, type Db } from '../../src/db/index.js';
import { RegistryReloader } from '../../src/operations/registry-reload.js';
import { RegistryVersionRepository } from '../../src/repositories/registry-version.js';
import { basic, freshDatabase, SECRETS, startTestServer, type TestServer } from '../support/harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'registry-instances-'));
const CLIENTS_FILE = path.join(dir, 'clients.json');
const USERS_FILE = path.join(dir, 'users.json');
const FILES = { CLIENTS_FILE, USERS_FILE };
const NEW_SECRET = 'new-service-secret-0123456789-0123456789';

const service = { client_id: 'service', client_secret: SECRETS.service, grant_types: ['client_credentials'] };
const newService = { client_id: 'new-service', client_secret: NEW_SECRET, grant_types: ['client_credentials'] };
const writeRegistry = (clients: object[]) => writeFileSync(CLIENTS_FILE, JSON.stringify({ clients }));
writeFileSync(USERS_FILE, JSON.stringify({ users: [{ username: 'alice', password: 'alice-password-123', sub: 'alice-sub-1' }] }));

/** Another handle on the database: its own pool on PostgreSQL, the same PGlite otherwise. */
async function handle(fresh: { db: Db; url?: string }): Promise<{ db: Db; close: () => Promise<void> }> {
  if (!fresh.url) return { db: fresh.db, close: async () => {} };
  const db = await openDatabase({ databaseUrl: fresh.url, poolSize: 2 });
  return { db, close: () => db.destroy() };
}

const token = async (s: TestServer, id: string, secret: string) =>
  (
    await s.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
      payload: 'grant_type=client_credentials',
    })
  ).statusCode;

/** Milliseconds until `s` answers `status` for new-service; throws past 10 s (the client cache alone would take up to 30 s). */
async function until(s: TestServer, status: number): Promise<number> {
  const started = Date.now();
  while ((await token(s, 'new-service', NEW_SECRET)) !== status) {
    if (Date.now() - started > 10_000) throw new Error(`still not ${status} after 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

describe('a registry reload reaches every instance on the database', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let second: Awaited<ReturnType<typeof handle>>;
  let a: TestServer;
  let b: TestServer;
  let watching: RegistryReloader;

  beforeAll(async () => {
    fresh = await freshDatabase();
    second = await handle(fresh);
    [a, b] = await Promise.all([startTestServer({ db: fresh.db, env: FILES }), startTestServer({ db: second.db, env: FILES })]);
    // what src/main.ts starts on PostgreSQL
    watching = new RegistryReloader(b.ctx, b.app.log);
    watching.watch();
  });
  afterAll(async () => {
    watching?.stop();
    await a?.close();
    await b?.close();
    await second?.close();
    await fresh?.drop();
  });

  async function cliSync(): Promise<{ code: number; out: string[]; err: string[] }> {
    const result = { code: -1, out: [] as string[], err: [] as string[] };
    const io: CliIO = {
      out: (l) => result.out.push(l),
      err: (l) => result.err.push(l),
      ask: async (q) => {
        throw new Error(`unexpected prompt ${q}`);
      },
      env: { ...FILES, SECRET_KEY: 'test-secret-key-0123456789-0123456789' },
      openDb: () => handle(fresh),
    };
    result.code = await runCli(['clients', 'sync'], io);
    return result;
  }

  it('`clients sync` refuses a bad file in one line and writes nothing', async () => {
    const before = await new RegistryVersionRepository(fresh.db).current();
    writeRegistry([service, { ...newService, redirect_uris: ['javascript:alert(1)'] }]);
    const r = await cliSync();
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^error: ${CLIENTS_FILE}: clients\\[1\\]\\.redirect_uris\\[0\\]: `));
    expect(await new RegistryVersionRepository(fresh.db).current()).toBe(before);
    expect(await token(a, 'new-service', NEW_SECRET)).toBe(401);
  });

  it('a client added by `clients sync` works on a running instance within seconds', async () => {
    await b.ctx.clients.reload(); // b's copy is new: its 30 s refresh cannot be what shows the change
    writeRegistry([service, newService]);
    const r = await cliSync();
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out[0]).toMatch(new RegExp(`^OK: ${CLIENTS_FILE}: 2 clients, 5 disabled; ${USERS_FILE}: 1 user; registry version \\d+$`));
    expect(await until(b, 200)).toBeLessThan(10_000);
    expect(await token(b, 'service', SECRETS.service)).toBe(200);
  });

  it('a client removed by a reload on one instance (SIGHUP) stops working on the other within seconds', async () => {
    await b.ctx.clients.reload();
    writeRegistry([service]);
    await new RegistryReloader(a.ctx, a.app.log).reload('SIGHUP');
    expect(await token(a, 'new-service', NEW_SECRET)).toBe(401);
    expect(await until(b, 401)).toBeLessThan(10_000);
    expect(await token(b, 'service', SECRETS.service)).toBe(200);
  });
});
