// What a start does before listening, shared by main.ts and the tests: open the database,
// migrate, load keys, sync the client registry and the users file.
import { existsSync } from 'node:fs';
import { loadRegistry, type ClientConfig } from './config/clients.js';
import { ConfigError, loadEnv, type Env } from './config/env.js';
import { loadUsers, type UserConfig } from './config/users.js';
import { createContext, type AppContext } from './context.js';
import { hashPassword } from './crypto/password.js';
import { migrate, openDatabase, type Db, type DbOptions } from './db/index.js';
import { SubConflictError } from './repositories/users.js';

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
  const clients = loadRegistry(env.CLIENTS_FILE, { production: env.production, env: registryEnv(source, env) });
  const users = env.USERS_FILE ? loadUsers(env.USERS_FILE, { production: env.production, env: source }) : [];
  return { env, clients, users };
}

/** `${ISSUER}` in the registry is the issuer in effect, also when it is the default one. */
export function registryEnv(source: NodeJS.ProcessEnv, env: Env): NodeJS.ProcessEnv {
  return { ...source, ISSUER: env.ISSUER };
}

export async function syncUsers(ctx: AppContext, users: UserConfig[]): Promise<void> {
  // plaintext passwords (development only) are hashed all at once, in libuv's threadpool
  const hashes = await Promise.all(users.map((u) => u.password_hash ?? hashPassword(u.password!)));
  for (const [i, u] of users.entries()) {
    const password_hash = hashes[i]!;
    try {
      await ctx.repos.users.upsert({ username: u.username, password_hash, claims: u.claims, sub: u.sub });
    } catch (e) {
      // a sub the file cannot give: one line naming the file, as for every config refusal
      if (e instanceof SubConflictError) throw new ConfigError(`${ctx.env.USERS_FILE}: ${e.message}`);
      throw e;
    }
  }
}

export async function syncClients(ctx: AppContext, clients: ClientConfig[]): Promise<void> {
  await ctx.repos.clients.sync(clients);
  await ctx.clients.reload();
}

export async function start(config: LoadedConfig, opts: { db?: Db; onOpen?: DbOptions['onOpen'] } = {}): Promise<AppContext> {
  const { env } = config;
  let db: Db;
  try {
    db = opts.db ?? (await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, onOpen: opts.onOpen }));
    await migrate(db);
  } catch (e) {
    throw new ConfigError(`database: ${(e as Error).message}`);
  }
  const ctx = await createContext(env, db);
  // together: hashing the users file's passwords (argon2id, in libuv's threadpool) is the slow
  // part of a start after the database, and does not wait for the registry
  await Promise.all([syncClients(ctx, config.clients), syncUsers(ctx, config.users)]);
  return ctx;
}
