// Device authorization (RFC 8628). device_code and user_code are both kept as SHA-256.
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { DeviceCodeRow } from '../db/schema.js';
import { sha256 } from '../crypto/hash.js';

export class DeviceCodesRepository {
  constructor(private readonly db: Db) {}

  /** Stores a new pending request. Returns false when the user_code collides with a stored one. */
  async create(d: { device_code: string; user_code: string; client_id: string; scope: string; interval: number; expires_at: Date }): Promise<boolean> {
    const r = await this.db
      .insertInto('device_codes')
      .values({
        device_code_hash: sha256(d.device_code),
        user_code_hash: sha256(d.user_code),
        client_id: d.client_id,
        scope: d.scope,
        interval: d.interval,
        expires_at: d.expires_at,
      })
      .onConflict((oc) => oc.column('user_code_hash').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** A pending, unexpired request by its (normalised) user_code. */
  async findPendingByUserCode(userCode: string): Promise<DeviceCodeRow | undefined> {
    return this.db
      .selectFrom('device_codes')
      .selectAll()
      .where('user_code_hash', '=', sha256(userCode))
      .where('status', '=', 'pending')
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
  }

  /** Records the user's decision; only a pending, unexpired request can be decided, once. */
  async decide(userCode: string, decision: { approved: true; sub: string; auth_time: Date; granted_scope: string } | { approved: false }): Promise<boolean> {
    const r = await this.db
      .updateTable('device_codes')
      .set(
        decision.approved
          ? { status: 'approved', sub: decision.sub, auth_time: decision.auth_time, granted_scope: decision.granted_scope }
          : { status: 'denied' },
      )
      .where('user_code_hash', '=', sha256(userCode))
      .where('status', '=', 'pending')
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /**
   * One poll (RFC 8628 §3.4, §3.5). Records the poll time and returns the row as it was before
   * this poll, so the caller can tell slow_down. When approved, the same UPDATE spends the code:
   * of concurrent polls, exactly one sees `consumed_now`.
   */
  async poll(deviceCode: string, clientId: string): Promise<{ row: DeviceCodeRow; previous_poll: Date | null; consumed_now: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('device_codes')
        .selectAll()
        .where('device_code_hash', '=', sha256(deviceCode))
        .where('client_id', '=', clientId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) return undefined;
      const consume = row.status === 'approved' && row.consumed_at === null && row.expires_at > new Date();
      const updated = await trx
        .updateTable('device_codes')
        .set({ last_polled_at: sql`now()`, ...(consume ? { consumed_at: sql`now()` } : {}) })
        .where('device_code_hash', '=', row.device_code_hash)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { row: updated, previous_poll: row.last_polled_at, consumed_now: consume };
    });
  }

  /** slow_down (RFC 8628 §3.5): the interval grows by 5 seconds for this and later polls. */
  async slowDown(deviceCode: string): Promise<number> {
    const r = await this.db
      .updateTable('device_codes')
      .set({ interval: sql`interval + 5` })
      .where('device_code_hash', '=', sha256(deviceCode))
      .returning('interval')
      .executeTakeFirstOrThrow();
    return r.interval;
  }
}
