// What the metrics read from the database at scrape time (src/metrics/metrics.ts): gauges that
// belong to every instance on the database alike, so no request has to count them.
import { sql } from 'kysely';
import type { Db } from '../db/index.js';

export class MetricsRepository {
  constructor(private readonly db: Db) {}

  /** Device authorization requests (RFC 8628 §3.3) still waiting for the user, unexpired. */
  async pendingDeviceCodes(): Promise<number> {
    const row = await this.db
      .selectFrom('device_codes')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'pending')
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Seconds since the key that signs was made, per algorithm: the oldest key not yet retired, so
   * a newer key that is published but not yet signing does not hide an old one.
   */
  async signingKeyAges(): Promise<{ alg: string; age_seconds: number }[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['alg', sql<string>`extract(epoch from now() - min(created_at))`.as('age_seconds')])
      .where('retired_at', 'is', null)
      .groupBy('alg')
      .execute();
    return rows.map((r) => ({ alg: r.alg, age_seconds: Number(r.age_seconds) }));
  }
}
