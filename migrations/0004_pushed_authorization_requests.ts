// Pushed authorization requests (RFC 9126). The request_uri is kept as its SHA-256, like codes;
// a row is deleted when its request_uri is used (one-time, §4) and ignored once expired.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('pushed_authorization_requests')
    .addColumn('request_uri_hash', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    // the authorization request's parameters, already validated (and taken from the request
    // object when one was pushed)
    .addColumn('params', 'jsonb', (c) => c.notNull())
    // true when the parameters came from a signed request object (RFC 9101)
    .addColumn('request_object', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('pushed_authorization_requests_expires_idx').on('pushed_authorization_requests').column('expires_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
