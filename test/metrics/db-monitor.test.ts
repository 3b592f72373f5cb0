// The database monitor behind the pool and error metrics, on a PostgreSQL that does not answer
// (nothing listens on port 1): connections refused are counted, and a scrape still answers.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { dbMonitor } from '../../src/db/monitor.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { sample } from './support.js';

let db: Db;
beforeAll(async () => {
  db = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/unreachable', poolSize: 3 });
});
afterAll(async () => db?.destroy());

describe('a database that does not answer', () => {
  it('counts each refused connection as a connect error', async () => {
    const monitor = dbMonitor(db)!;
    const before = monitor.errors.connect;
    await expect(sql`select 1`.execute(db)).rejects.toThrow();
    await expect(sql`select 1`.execute(db)).rejects.toThrow();
    expect(monitor.errors.connect - before).toBe(2);
    expect(monitor.use()).toMatchObject({ max: 3, open: 0, waiting: 0 });
  });

  it('still gives a scrape: the database gauges are NaN, the pool and its errors are there', async () => {
    const text = await new Metrics(db).registry.metrics();
    expect(text).toMatch(/^oauth_device_codes_pending NaN$/im);
    expect(sample(text, 'oauth_signing_key_age_seconds')).toBeUndefined();
    expect(sample(text, 'oauth_db_pool_max_connections')).toBe(3);
    // the two of the test above (this scrape's own refused queries show in the next one)
    expect(sample(text, 'oauth_db_errors_total', { kind: 'connect' })).toBeGreaterThanOrEqual(2);
  });
});
