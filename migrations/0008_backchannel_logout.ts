// OpenID Connect Back-Channel Logout 1.0: which clients each login session signed in to, which
// grants it opened (so ending it ends those without offline_access), and a durable outbox of
// logout tokens still to deliver, so that a restart or another instance finishes the delivery.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // the login session a grant was given in; null for grants without one (password, device,
  // client credentials) and for grants from before this migration
  await db.schema.alterTable('grants').addColumn('session_id_hash', 'text').execute();
  await db.schema.createIndex('grants_session_idx').on('grants').column('session_id_hash').execute();

  // the clients a login session answered an OpenID Connect authorization request for; gone with
  // the session row
  await db.schema
    .createTable('login_session_clients')
    .addColumn('session_id_hash', 'text', (c) => c.notNull().references('login_sessions.id_hash').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('login_session_clients_pk', ['session_id_hash', 'client_id'])
    .execute();

  // one row per logout token to deliver; it is signed at each attempt (fresh iat, exp and jti)
  await db.schema
    .createTable('backchannel_logout_deliveries')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    // the user's own sub; the client's (possibly pairwise) subject is computed when signing
    .addColumn('sub', 'text', (c) => c.notNull())
    .addColumn('sid', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // a claim by one worker until then; a worker that died lets it lapse and another takes over
    .addColumn('locked_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('backchannel_logout_deliveries_due_idx').on('backchannel_logout_deliveries').column('next_attempt_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
