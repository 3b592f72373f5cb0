// Brute-force defence and cleanup (issue 8, points 1 and 4).
// - login_attempts.last_attempt_at: when a counter last counted. The per-account count of
//   consecutive failures (NIST SP 800-63B §5.2.2) has no window; the cleanup job forgets it only
//   after a long quiet time, which it tells by this column.
// - login_known_addresses: the addresses each user signed in from, for the stronger measure once
//   an account has had too many consecutive failures (src/authentication/credentials.ts).
// - Indexes on the columns by which the cleanup job (src/maintenance/cleanup.ts) finds rows past
//   their life, so that each of its batches is an index range scan, not a scan of the table.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('login_attempts')
    .addColumn('last_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('login_known_addresses')
    .addColumn('sub', 'text', (c) => c.notNull().references('users.sub').onDelete('cascade'))
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('last_success_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('login_known_addresses_pk', ['sub', 'ip'])
    .execute();
  await db.schema.createIndex('login_known_addresses_last_success_idx').on('login_known_addresses').column('last_success_at').execute();

  for (const table of ['authorization_codes', 'device_codes', 'refresh_tokens', 'grants', 'login_sessions', 'token_revocations', 'client_assertion_jtis']) {
    await db.schema.createIndex(`${table}_expires_idx`).on(table).column('expires_at').execute();
  }
  await db.schema.createIndex('login_sessions_ended_idx').on('login_sessions').column('ended_at').execute();
  await db.schema.createIndex('login_attempts_last_attempt_idx').on('login_attempts').column('last_attempt_at').execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
