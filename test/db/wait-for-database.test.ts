// A start while PostgreSQL is not reachable: tries again after 1 s, doubling up to 30 s, one
// notice per failed try; an error that waiting cannot fix ends the wait at once.
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/db/index.js';
import type { Database } from '../../src/db/schema.js';
import { waitForDatabase, type RetryNotice } from '../../src/db/wait-for-database.js';

/** A database whose connection attempts fail with `errors` in turn, then succeed. */
function failing(errors: Error[]): Db {
  const pool: PostgresPool = {
    async connect() {
      const e = errors.shift();
      if (e) throw e;
      return { query: async () => ({ command: 'SELECT', rowCount: 1, rows: [{ '?column?': 1 }] }), release: () => {} } as never;
    },
    end: async () => {},
  };
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

afterEach(() => {
  vi.useRealTimers();
});

describe('waiting for the database at start', () => {
  it('tries again after 1, 2, 4, 8, 16, then every 30 s, with one notice per failed try', async () => {
    vi.useFakeTimers();
    const notices: RetryNotice[] = [];
    let done = false;
    const waited = waitForDatabase(failing(Array.from({ length: 8 }, refused)), (n) => notices.push(n)).then(() => (done = true));
    for (let i = 0; i < 8 && !done; i++) await vi.advanceTimersByTimeAsync(30_000);
    await waited;
    expect(notices.map((n) => n.retry_in_ms)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(notices.map((n) => n.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(notices[0]!.error).toBe('connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('gives up at once on a wrong password, with no notice', async () => {
    const notices: RetryNotice[] = [];
    const wrong = Object.assign(new pg.DatabaseError('password authentication failed for user "oauth"', 0, 'error'), { code: '28P01' });
    await expect(waitForDatabase(failing([wrong]), (n) => notices.push(n))).rejects.toThrow('password authentication failed for user "oauth"');
    expect(notices).toEqual([]);
  });
});
