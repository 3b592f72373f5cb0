// Revoked JWT access tokens (by jti) and seen client-assertion jtis.
import type { Db } from '../db/index.js';

export class TokensRepository {
  constructor(private readonly db: Db) {}

  /** Records a revoked access token until it would have expired anyway (RFC 7009 §2). */
  async revokeJti(jti: string, expiresAt: Date): Promise<void> {
    await this.db.insertInto('token_revocations').values({ jti, expires_at: expiresAt }).onConflict((oc) => oc.column('jti').doNothing()).execute();
  }

  async isJtiRevoked(jti: string): Promise<boolean> {
    const r = await this.db.selectFrom('token_revocations').select('jti').where('jti', '=', jti).executeTakeFirst();
    return !!r;
  }

  /** Remembers a client assertion's jti; false when it was seen before (replay, RFC 7523 §3). */
  async rememberAssertionJti(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    const r = await this.db
      .insertInto('client_assertion_jtis')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }
}
