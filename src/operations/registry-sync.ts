// Writing the client registry and the users file to the database: at start, on SIGHUP and by
// `clients sync`. One transaction, so a refusal half-way (a users file that gives an existing
// user another sub) leaves the registry that was in force, whole.
import type { ClientConfig } from '../config/clients.js';
import { ConfigError } from '../config/env.js';
import { checkSectorIdentifiers } from '../config/sector-identifier.js';
import type { UserConfig } from '../config/users.js';
import { hashPassword } from '../crypto/password.js';
import type { Db } from '../db/index.js';
import { ClientsRepository } from '../repositories/clients.js';
import { RegistryVersionRepository } from '../repositories/registry-version.js';
import { SubConflictError, UsersRepository } from '../repositories/users.js';

export type HashedUser = Omit<UserConfig, 'password' | 'password_hash'> & { password_hash: string };

/** Plaintext passwords (development only) hashed all at once, in libuv's threadpool; before any write. */
export async function hashUsers(users: UserConfig[]): Promise<HashedUser[]> {
  const hashes = await Promise.all(users.map((u) => u.password_hash ?? hashPassword(u.password!)));
  return users.map(({ password: _, ...u }, i) => ({ ...u, password_hash: hashes[i]! }));
}

/** Creates or updates each user; a sub the file cannot give is one line naming the file, as for every config refusal. */
export async function upsertUsers(repo: UsersRepository, usersFile: string | undefined, users: HashedUser[]): Promise<void> {
  for (const u of users) {
    try {
      await repo.upsert({ username: u.username, password_hash: u.password_hash, claims: u.claims, sub: u.sub });
    } catch (e) {
      if (e instanceof SubConflictError) throw new ConfigError(`${usersFile}: ${e.message}`);
      throw e;
    }
  }
}

export interface RegistrySync {
  clients: number;
  disabled: number;
  users: number;
  /** the registry version this sync made (src/repositories/registry-version.ts) */
  version: string;
}

/**
 * Clients, users and the registry version in one transaction: all of it is written, or none.
 * Pairwise clients' sector_identifier_uri documents (OIDC Core §8.1) are fetched and checked
 * first, so a sector that does not list a redirect URI refuses the whole file.
 */
export async function syncRegistry(
  db: Db,
  files: { clients: ClientConfig[]; clientsFile: string; users: HashedUser[]; usersFile: string | undefined },
): Promise<RegistrySync> {
  await checkSectorIdentifiers(files.clients, files.clientsFile);
  return db.transaction().execute(async (trx) => {
    const clients = await new ClientsRepository(trx).sync(files.clients);
    await upsertUsers(new UsersRepository(trx), files.usersFile, files.users);
    const version = await new RegistryVersionRepository(trx).bump();
    return { clients: clients.upserted, disabled: clients.disabled, users: files.users.length, version };
  });
}
