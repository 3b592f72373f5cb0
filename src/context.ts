// Everything a request may need, built once at start and handed to buildApp. Tests build their
// own with a PGlite database.
import type { Env } from './config/env.js';
import { Keystore } from './crypto/keystore.js';
import { randomToken } from './crypto/random.js';
import { SecretBox } from './crypto/secret-box.js';
import type { Db } from './db/index.js';
import { AuditRepository } from './repositories/audit.js';
import { BackchannelLogoutRepository } from './repositories/backchannel-logout.js';
import { ClientCache, ClientsRepository } from './repositories/clients.js';
import { ConsentsRepository } from './repositories/consents.js';
import { DeviceCodesRepository } from './repositories/device-codes.js';
import { GrantsRepository } from './repositories/grants.js';
import { KeysRepository } from './repositories/keys.js';
import { LoginAttemptsRepository } from './repositories/login-attempts.js';
import { PushedAuthorizationRequestsRepository } from './repositories/pushed-authorization-requests.js';
import { SessionsRepository } from './repositories/sessions.js';
import { SettingsRepository } from './repositories/settings.js';
import { TokensRepository } from './repositories/tokens.js';
import { UsersRepository } from './repositories/users.js';
import { PAIRWISE_SALT_SETTING } from './oauth/subject.js';

export function createRepositories(db: Db) {
  return {
    audit: new AuditRepository(db),
    backchannelLogout: new BackchannelLogoutRepository(db),
    clients: new ClientsRepository(db),
    consents: new ConsentsRepository(db),
    deviceCodes: new DeviceCodesRepository(db),
    grants: new GrantsRepository(db),
    keys: new KeysRepository(db),
    loginAttempts: new LoginAttemptsRepository(db),
    pushedAuthorizationRequests: new PushedAuthorizationRequestsRepository(db),
    sessions: new SessionsRepository(db),
    settings: new SettingsRepository(db),
    tokens: new TokensRepository(db),
    users: new UsersRepository(db),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;

export interface AppContext {
  env: Env;
  db: Db;
  repos: Repositories;
  keystore: Keystore;
  clients: ClientCache;
  /** SECRET_KEY, or in development one generated once and kept in the database */
  secretKey: string;
  /** secretKey, then SECRET_KEY_PREVIOUS when set: sign with the first, accept any (rotation) */
  secretKeys: readonly string[];
  /** salt of pairwise subject identifiers (OIDC Core §8.1): generated once, kept in the database */
  pairwiseSalt: string;
}

export async function createContext(env: Env, db: Db, opts: { now?: () => number } = {}): Promise<AppContext> {
  const repos = createRepositories(db);
  // INTERFACE.md: dev generates SECRET_KEY and keeps it in the database; production requires it.
  const secretKey = env.SECRET_KEY ?? (await repos.settings.getOrCreate('generated_secret_key', () => randomToken(32)));
  const previous = env.SECRET_KEY_PREVIOUS;
  const keystore = new Keystore(repos.keys, new SecretBox(secretKey), { previousBox: previous ? new SecretBox(previous) : undefined, now: opts.now });
  await keystore.init();
  const clients = new ClientCache(repos.clients);
  await clients.reload();
  const pairwiseSalt = await repos.settings.getOrCreate(PAIRWISE_SALT_SETTING, () => randomToken(32));
  return { env, db, repos, keystore, clients, secretKey, secretKeys: previous ? [secretKey, previous] : [secretKey], pairwiseSalt };
}
