// Signing keys are published before they sign (issue 8, point 5): `activates_at` is when a key
// starts signing. A rotated-in key gets now() plus the publication delay, so that every relying
// party has fetched it in the JWKS before it sees a token with its kid; keys that exist already
// have been signing since they were created.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('signing_keys').addColumn('activates_at', 'timestamptz').execute();
  await sql`update signing_keys set activates_at = created_at`.execute(db);
  await db.schema
    .alterTable('signing_keys')
    .alterColumn('activates_at', (c) => c.setNotNull())
    .alterColumn('activates_at', (c) => c.setDefault(sql`now()`))
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
