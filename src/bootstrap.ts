// What a start does before listening, shared by main.ts and the tests: open the database,
// migrate, load keys, sync the client registry and the users file.
import { existsSync } from 'node:fs';
import { loadRegistry, type ClientConfig } from './config/clients.js';
import { ConfigError, loadEnv, type Env } from './config/env.js';
import { checkSectorIdentifiers } from './config/sector-identifier.js';
import { loadUsers, type UserConfig } from './config/users.js';
import { createContext, type AppContext } from './context.js';
import { signingAlgsInUse } from './crypto/signing-algs.js';
import { migrate, openDatabase, type Db, type DbOptions } from './db/index.js';
import { poolTimeouts } from './db/pg-pool.js';
import { waitForDatabase, type RetryNotice } from './db/wait-for-database.js';
import { hashUsers, syncRegistry, upsertUsers } from './operations/registry-sync.js';

/** Reads .env when present (Node's own parser); real environment variables win. */
export function readDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export interface LoadedConfig {
  env: Env;
  clients: ClientConfig[];
  users: UserConfig[];
}

/** Every config check that can fail, before anything is opened: a bad file stops the start. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const env = loadEnv(source);
  return { env, ...loadFiles(env, source) };
}

/** The client registry and the users file, read and checked: at start, on SIGHUP and by `clients sync`. */
export function loadFiles(env: Env, source: NodeJS.ProcessEnv = process.env): Omit<LoadedConfig, 'env'> {
  const clients = loadRegistry(env.CLIENTS_FILE, { production: env.production, env: registryEnv(source, env) });
  const users = env.USERS_FILE ? loadUsers(env.USERS_FILE, { production: env.production, env: source }) : [];
  return { clients, users };
}

/** `${ISSUER}` in the registry is the issuer in effect, also when it is the default one. */
export function registryEnv(source: NodeJS.ProcessEnv, env: Env): NodeJS.ProcessEnv {
  return { ...source, ISSUER: env.ISSUER };
}

export async function syncUsers(ctx: AppContext, users: UserConfig[]): Promise<void> {
  await upsertUsers(ctx.repos.users, ctx.env.USERS_FILE, await hashUsers(users));
}

export async function syncClients(ctx: AppContext, clients: ClientConfig[]): Promise<void> {
  // OIDC Core §8.1: pairwise clients' sector_identifier_uri documents, fetched before anything is stored
  await checkSectorIdentifiers(clients, ctx.env.CLIENTS_FILE);
  // a key for every algorithm the registry names, before any client can ask for a token
  await ctx.keystore.ensure(signingAlgsInUse(ctx.env, clients));
  await ctx.repos.clients.sync(clients);
  await ctx.clients.reload();
}

export async function start(
  config: LoadedConfig,
  opts: { db?: Db; onOpen?: DbOptions['onOpen']; onRetry?: (notice: RetryNotice) => void } = {},
): Promise<AppContext> {
  const { env } = config;
  // hashing the users file's passwords (argon2id, in libuv's threadpool) is the slow part of a
  // start after the database, and runs while the database opens
  const users = hashUsers(config.users);
  users.catch(() => {}); // awaited below; a failure is reported there
  let db: Db;
  try {
    db = opts.db ?? (await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, onOpen: opts.onOpen, timeouts: poolTimeouts(env) }));
    // PostgreSQL not reachable yet: wait for it, with backoff (a wrong password still stops the start)
    if (env.DATABASE_URL) await waitForDatabase(db, opts.onRetry);
    await migrate(db);
  } catch (e) {
    throw new ConfigError(`database: ${(e as Error).message}`);
  }
  const ctx = await createContext(env, db);
  // a key for every algorithm the registry names, before any client can ask for a token
  await ctx.keystore.ensure(signingAlgsInUse(env, config.clients));
  await syncRegistry(db, { clients: config.clients, clientsFile: env.CLIENTS_FILE, users: await users, usersFile: env.USERS_FILE });
  await ctx.clients.reload();
  return ctx;
}
