// DPoP proof jtis (RFC 9449 §11.1): one row per accepted proof, so that a replayed proof is
// refused by every instance. Kept as the SHA-256 of the key thumbprint and the jti.
import { sql } from 'kysely';
import { sha256 } from '../crypto/hash.js';
import type { Db } from '../db/index.js';

export class DpopProofsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Remembers a proof's jti until `expiresAt`; false when it was seen before and has not expired
   * (a replay). One INSERT ... ON CONFLICT: of two concurrent uses exactly one gets true. A row
   * left from an expired proof is taken over (the hourly purge may not have run yet).
   */
  async rememberJti(jkt: string, jti: string, expiresAt: Date): Promise<boolean> {
    const r = await this.db
      .insertInto('dpop_proof_jtis')
      .values({ jti_hash: sha256(`${jkt}:${jti}`), expires_at: expiresAt })
      .onConflict((oc) =>
        oc
          .column('jti_hash')
          .doUpdateSet({ expires_at: expiresAt })
          .where('dpop_proof_jtis.expires_at', '<', sql<Date>`now()`),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }
}
