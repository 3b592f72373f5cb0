// Login sessions (authentication): one server-side row per signed-in browser. The cookie holds a
// random id; the table holds its SHA-256.
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { sha256 } from '../crypto/hash.js';

export interface LoginSession {
  id_hash: string;
  sub: string;
  auth_time: Date;
  expires_at: Date;
}

export class SessionsRepository {
  constructor(private readonly db: Db) {}

  async create(s: { id: string; sub: string; auth_time: Date; expires_at: Date }): Promise<void> {
    await this.db.insertInto('login_sessions').values({ id_hash: sha256(s.id), sub: s.sub, auth_time: s.auth_time, expires_at: s.expires_at }).execute();
  }

  /** A live session for this cookie value, or undefined. */
  async findActive(id: string): Promise<LoginSession | undefined> {
    return this.db
      .selectFrom('login_sessions')
      .select(['id_hash', 'sub', 'auth_time', 'expires_at'])
      .where('id_hash', '=', sha256(id))
      .where('ended_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
  }
}
