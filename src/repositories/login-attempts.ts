// Failed sign-in attempts per key ("user:alice", "ip:203.0.113.5"). Kept in the database so every
// instance behind a load balancer sees the same counts.
import { sql } from 'kysely';
import type { Db } from '../db/index.js';

export class LoginAttemptsRepository {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<{ failures: number; locked_until: Date | null } | undefined> {
    return this.db
      .selectFrom('login_attempts')
      .select(['failures', 'locked_until'])
      .where('key', '=', key)
      .where('window_started_at', '>', sql<Date>`now() - interval '15 minutes'`)
      .executeTakeFirst();
  }

  /** Counts one failure within a 15-minute window; returns the new count. */
  async fail(key: string): Promise<number> {
    const r = await this.db
      .insertInto('login_attempts')
      .values({ key, failures: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql`case when login_attempts.window_started_at > now() - interval '15 minutes' then login_attempts.failures + 1 else 1 end`,
          window_started_at: sql`case when login_attempts.window_started_at > now() - interval '15 minutes' then login_attempts.window_started_at else now() end`,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    return r.failures;
  }

  async lock(key: string, until: Date): Promise<void> {
    await this.db.updateTable('login_attempts').set({ locked_until: until }).where('key', '=', key).execute();
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('login_attempts').where('key', '=', key).execute();
  }
}
