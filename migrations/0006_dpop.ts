// DPoP (RFC 9449). The jti of every accepted proof is remembered until the proof could no longer
// be accepted anyway (§11.1: replay detection), as the SHA-256 of key thumbprint and jti, so that
// every instance sees what any of them accepted. A refresh token of a public client remembers the
// thumbprint of the key it is bound to (§5); an authorization code the `dpop_jkt` of its
// authorization request (§10).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dpop_proof_jtis')
    .addColumn('jti_hash', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dpop_proof_jtis_expires_idx').on('dpop_proof_jtis').column('expires_at').execute();
  await db.schema.alterTable('refresh_tokens').addColumn('dpop_jkt', 'text').execute();
  await db.schema.alterTable('authorization_codes').addColumn('dpop_jkt', 'text').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
