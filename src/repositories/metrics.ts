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
   * Seconds since the key that signs was made, per algorithm: the key activated last
   * (activates_at <= now), so a newer key that is published but still waiting out its
   * publication delay (migrations/0003) does not hide the one that signs.
   */
  async signingKeyAges(): Promise<{ alg: string; age_seconds: number }[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .distinctOn('alg')
      .select(['alg', sql<string>`extract(epoch from now() - created_at)`.as('age_seconds')])
      .where('activates_at', '<=', sql<Date>`now()`)
      .orderBy('alg')
      .orderBy('activates_at', 'desc')
      .execute();
    return rows.map((r) => ({ alg: r.alg, age_seconds: Number(r.age_seconds) }));
  }
}
