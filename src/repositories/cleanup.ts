// Deleting rows past their life (issue 8, point 4), for the cleanup job (src/maintenance/cleanup.ts).
//
// Everything deleted here is already refused or ignored by the code that reads it, so a delete
// can only turn a "no" into the same "no". What each table keeps, and why:
// - authorization_codes: until expired; a used one while its grant is active, since replaying
//   it must still revoke what it issued (RFC 6749 §4.1.2).
// - device_codes: a day past expiry, so a late poll still gets expired_token (RFC 8628 §3.5).
// - refresh_tokens: until expired; a rotated one while its grant is active, since reusing it
//   must still revoke the family (RFC 9700 §4.14.2).
// - grants: until expired and no refresh token of the family is (every token it issued is
//   checked against it, and refused once it has expired).
// - login_sessions: until expired or ended.
// - token_revocations: until the token's exp, plus 5 minutes for clocks that differ between
//   instances and the database (RFC 7009 §2: a revoked token that has expired is refused anyway).
// - client_assertion_jtis: until expires_at, which is already the assertion's exp plus more than
//   the clock tolerance its check allows (RFC 7523 §3: a jti is refused only while it could be used).
// - login_attempts: windowed counters until their window has passed and no lock is running; the
//   per-account count of consecutive failures after LOGIN_ACCOUNT_FAILURE_DAYS without attempts.
// - login_known_addresses: LOGIN_KNOWN_ADDRESS_DAYS after the last sign-in from the address.
// - pushed_authorization_requests: until expired (RFC 9126 §2.2: a request_uri is short-lived;
//   a used one is deleted when it is spent).
// - audit_log: AUDIT_RETENTION_DAYS.
//
// Rows go in batches of `batchSize`, each its own short statement, so no delete holds locks on
// many rows or bloats one transaction; each table is done when a batch comes back short.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Db } from '../db/index.js';
import type { Database } from '../db/schema.js';

export interface RetentionPolicy {
  batchSize: number;
  /** LOGIN_LOCK_SECONDS: the window of the sign-in counters */
  loginWindowSeconds: number;
  accountFailureDays: number;
  knownAddressDays: number;
  auditDays: number;
}

export const CLEANUP_TABLES = [
  'authorization_codes',
  'device_codes',
  'refresh_tokens',
  'grants',
  'login_sessions',
  'token_revocations',
  'client_assertion_jtis',
  'login_attempts',
  'login_known_addresses',
  'pushed_authorization_requests',
  'audit_log',
] as const;
export type CleanupTable = (typeof CLEANUP_TABLES)[number];
export type CleanupCounts = Record<CleanupTable, number>;

/** The advisory lock key of the cleanup job: one instance at a time cleans up. */
export const CLEANUP_LOCK = 0x6f617574; // "oaut"

/** A grant that still works: the one whose codes and rotated refresh tokens must stay. */
const activeGrant = (grantId: RawBuilder<unknown>) =>
  sql`exists (select 1 from grants g where g.grant_id = ${grantId} and g.revoked_at is null and g.expires_at > now())`;

/** What is past its life in each table; `t` is the table's alias. Tables are cleaned in this order. */
function pastLife(p: RetentionPolicy): Record<CleanupTable, RawBuilder<unknown>[]> {
  const days = (n: number) => sql`now() - make_interval(days => ${n})`;
  return {
    authorization_codes: [sql`t.expires_at < now() and (t.consumed_at is null or not ${activeGrant(sql`t.grant_id`)})`],
    device_codes: [sql`t.expires_at < now() - interval '1 day'`],
    refresh_tokens: [sql`t.expires_at < now() and (t.rotated_at is null or not ${activeGrant(sql`t.grant_id`)})`],
    grants: [sql`t.expires_at < now() and not exists (select 1 from refresh_tokens r where r.grant_id = t.grant_id and r.expires_at > now())`],
    login_sessions: [sql`t.expires_at < now()`, sql`t.ended_at < now()`],
    token_revocations: [sql`t.expires_at < now() - interval '5 minutes'`],
    client_assertion_jtis: [sql`t.expires_at < now()`],
    login_attempts: [
      sql`t.key not like 'account:%' and t.last_attempt_at < now() - make_interval(secs => ${p.loginWindowSeconds}) and (t.locked_until is null or t.locked_until < now())`,
      sql`t.key like 'account:%' and t.last_attempt_at < ${days(p.accountFailureDays)}`,
    ],
    login_known_addresses: [sql`t.last_success_at < ${days(p.knownAddressDays)}`],
    pushed_authorization_requests: [sql`t.expires_at < now()`],
    audit_log: [sql`t.at < ${days(p.auditDays)}`],
  };
}

export class CleanupRepository {
  constructor(private readonly db: Db) {}

  /**
   * Runs the deletes on one connection that holds a session-level PostgreSQL advisory lock, so
   * that of several instances on one database one cleans up at a time; undefined when another
   * holds it. `stopped` is asked between batches (shutdown).
   */
  async deletePastLife(policy: RetentionPolicy, stopped: () => boolean): Promise<CleanupCounts | undefined> {
    return this.db.connection().execute(async (conn) => {
      const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${sql.lit(CLEANUP_LOCK)}) as locked`.execute(conn);
      if (!rows[0]?.locked) return undefined;
      try {
        const counts = Object.fromEntries(CLEANUP_TABLES.map((t) => [t, 0])) as CleanupCounts;
        for (const [table, conditions] of Object.entries(pastLife(policy)) as [CleanupTable, RawBuilder<unknown>[]][]) {
          for (const condition of conditions) counts[table] += await this.deleteBatched(conn, table, condition, policy.batchSize, stopped);
        }
        return counts;
      } finally {
        await sql`select pg_advisory_unlock(${sql.lit(CLEANUP_LOCK)})`.execute(conn);
      }
    });
  }

  private async deleteBatched(conn: Kysely<Database>, table: CleanupTable, condition: RawBuilder<unknown>, batchSize: number, stopped: () => boolean): Promise<number> {
    let total = 0;
    while (!stopped()) {
      // `ctid = any(array(...))` makes a TID scan of the batch, not a join with the whole table
      const r = await sql`delete from ${sql.table(table)} where ctid = any(array(select t.ctid from ${sql.table(table)} as t where ${condition} limit ${batchSize}))`.execute(conn);
      const deleted = Number(r.numAffectedRows ?? 0n);
      total += deleted;
      if (deleted < batchSize) break;
    }
    return total;
  }
}
