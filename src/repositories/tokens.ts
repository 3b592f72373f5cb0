// Revoked JWT access tokens (by jti) and seen client-assertion jtis.
import { sql } from 'kysely';
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

  /**
   * Deletes rows that no longer matter. Everything removed here is already refused by the
   * checks that read it (an expired row, or a missing grant, counts as inactive), so purging
   * can only ever make an answer "no" that was "no" already. Codes and device codes are kept a
   * day past expiry so a late replay is still recognised as one.
   */
  async purgeExpired(): Promise<void> {
    const dayAgo = sql<Date>`now() - interval '1 day'`;
    await this.db.deleteFrom('token_revocations').where('expires_at', '<', sql<Date>`now()`).execute();
    await this.db.deleteFrom('client_assertion_jtis').where('expires_at', '<', sql<Date>`now()`).execute();
    await this.db.deleteFrom('dpop_proof_jtis').where('expires_at', '<', sql<Date>`now()`).execute();
    await this.db.deleteFrom('device_codes').where('expires_at', '<', dayAgo).execute();
    await this.db.deleteFrom('authorization_codes').where('expires_at', '<', dayAgo).execute();
    await this.db.deleteFrom('refresh_tokens').where('expires_at', '<', sql<Date>`now()`).execute();
    await this.db.deleteFrom('grants').where('expires_at', '<', sql<Date>`now()`).execute();
    await this.db.deleteFrom('pushed_authorization_requests').where('expires_at', '<', sql<Date>`now()`).execute();
    await this.db.deleteFrom('login_sessions').where('expires_at', '<', dayAgo).execute();
    await this.db.deleteFrom('login_attempts').where('window_started_at', '<', dayAgo).where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', sql<Date>`now()`)])).execute();
  }
}
