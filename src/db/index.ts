// The database: a pg Pool on PostgreSQL when DATABASE_URL is set, else embedded PGlite.
// Both run the same migrations and the same Kysely queries.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider } from 'kysely';
import * as initial from '../../migrations/0001_initial.js';
import * as cleanupIndexes from '../../migrations/0002_cleanup_indexes.js';
import * as signingKeyActivation from '../../migrations/0003_signing_key_activation.js';
import * as pushedAuthorizationRequests from '../../migrations/0004_pushed_authorization_requests.js';
import * as backchannelLogout from '../../migrations/0008_backchannel_logout.js';
import { LOCK_FILE, lockDataDir } from './data-dir-lock.js';
import { monitoredDb } from './monitor.js';
import { copyTemplateDir, isEmptyDataDir, readTemplateDump } from './pglite-template.js';
import { PGliteDialect } from './pglite-dialect.js';
import { createPool, type PoolTimeouts } from './pg-pool.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

// Migrations are imported statically, so the same list works under tsx and from dist/.
const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_cleanup_indexes': cleanupIndexes,
  '0003_signing_key_activation': signingKeyActivation,
  '0004_pushed_authorization_requests': pushedAuthorizationRequests,
  '0008_backchannel_logout': backchannelLogout,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export interface DbOptions {
  databaseUrl?: string | undefined;
  dataDir?: string;
  /** a dumped, migrated PGlite data dir to start from (tests) */
  loadDataDir?: Blob;
  poolSize?: number;
  /** PostgreSQL: how long connecting and a statement may take (src/db/pg-pool.ts) */
  timeouts?: PoolTimeouts;
  /** where the install-time PGlite template is (default: templateBase()) */
  template?: string;
  /** told how an embedded database came to be: unpacked from the install-time template, initdb, or already there */
  onOpen?: (created: 'template' | 'initdb' | 'existing') => void;
}

export async function openDatabase(opts: DbOptions): Promise<Db> {
  if (opts.databaseUrl) {
    const { pool, connections } = createPool(opts.databaseUrl, opts.poolSize ?? 10, opts.timeouts);
    return monitoredDb(new PostgresDialect({ pool: connections }), pool);
  }
  const dataDir = opts.dataDir ?? './data';
  const inMemory = dataDir === 'memory://';
  const empty = inMemory || isEmptyDataDir(dataDir);
  const release = inMemory ? undefined : lockDataDir(dataDir);
  const create = (loadDataDir: Blob | undefined) =>
    PGlite.create({
      dataDir: inMemory ? undefined : dataDir,
      ...(loadDataDir ? { loadDataDir } : {}),
      relaxedDurability: inMemory,
      // PGlite's default shared_buffers (128MB) is sized for a server; with 16MB a small embedded
      // database needs about 130 MB less memory. A start parameter, not postgresqlconf,
      // which would replace the data directory's postgresql.conf (timezone, datestyle, ...).
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
    });
  const clear = () => {
    for (const f of readdirSync(dataDir)) if (f !== LOCK_FILE) rmSync(path.join(dataDir, f), { recursive: true, force: true });
  };
  let pglite: PGlite;
  try {
    if (opts.loadDataDir) {
      pglite = await create(opts.loadDataDir);
      opts.onOpen?.('template');
    } else if (!empty) {
      pglite = await create(undefined);
      opts.onOpen?.('existing');
    } else {
      // an empty database: from the install-time template when there is a usable one
      let fromTemplate: PGlite | undefined;
      try {
        const dump = inMemory ? readTemplateDump(opts.template) : undefined;
        if (dump || (!inMemory && copyTemplateDir(dataDir, opts.template))) fromTemplate = await create(dump);
      } catch {
        if (!inMemory) clear(); // what an unusable template left behind
      }
      pglite = fromTemplate ?? (await create(undefined));
      opts.onOpen?.(fromTemplate ? 'template' : 'initdb');
    }
  } catch (e) {
    release?.();
    throw e;
  }
  return monitoredDb(new PGliteDialect(pglite, release));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export async function migrate(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
