import { sql } from 'kysely';
import type { UserClaims } from '../config/users.js';
import type { Db } from '../db/index.js';
import { randomToken } from '../crypto/random.js';

export interface User {
  sub: string;
  username: string;
  password_hash: string;
  claims: UserClaims;
  updated_at: Date;
}

/** A users file or command names a sub that cannot be: taken by another user, or not the user's own. */
export class SubConflictError extends Error {}

export class UsersRepository {
  constructor(private readonly db: Db) {}

  /** A stable, opaque subject identifier (OIDC Core §2: locally unique, never reassigned). */
  static newSub(): string {
    return randomToken(16);
  }

  async findByUsername(username: string): Promise<User | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return r && { ...r, claims: r.claims as UserClaims };
  }

  async findBySub(sub: string): Promise<User | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('sub', '=', sub).executeTakeFirst();
    return r && { ...r, claims: r.claims as UserClaims };
  }

  /**
   * Creates the user, or updates password and claims of the one with this username. A sub, once
   * given, never changes (OpenID Connect Core §2: never reassigned; relying parties key their
   * accounts on it): a file that names another sub for an existing user is refused.
   *
   * Two instances starting together on one PostgreSQL both sync the users file, so this must not
   * read-then-insert: the insert yields on any unique conflict (ON CONFLICT DO NOTHING, every
   * unique index is an arbiter) and the update then finds the row the other instance wrote.
   */
  async upsert(u: { username: string; password_hash: string; claims: UserClaims; sub?: string | undefined }): Promise<User> {
    const inserted = await this.db
      .insertInto('users')
      .values({ sub: u.sub ?? UsersRepository.newSub(), username: u.username, password_hash: u.password_hash, claims: JSON.stringify(u.claims) })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    let row = inserted;
    if (!row) {
      let update = this.db
        .updateTable('users')
        .set({ password_hash: u.password_hash, claims: JSON.stringify(u.claims), updated_at: sql`now()` })
        .where('username', '=', u.username);
      if (u.sub) update = update.where('sub', '=', u.sub);
      row = await update.returningAll().executeTakeFirst();
    }
    if (!row) {
      const existing = await this.findByUsername(u.username);
      throw new SubConflictError(
        existing
          ? `user ${u.username} already has sub ${existing.sub}; a sub never changes (OpenID Connect Core §2)`
          : `sub ${u.sub} already belongs to another user than ${u.username}`,
      );
    }
    return { ...row, claims: row.claims as UserClaims };
  }

  async setPassword(username: string, passwordHash: string): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: sql`now()` })
      .where('username', '=', username)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }
}
