// A server started while PostgreSQL is not reachable yet (both containers starting together, the
// database restarting) waits for it instead of exiting: it tries again after 1 s, then 2, 4, ...
// up to 30 s between tries, and says so in one log line per failed try. Only errors that waiting
// can fix are waited out (src/db/unavailable.ts); a wrong password or database name stops the
// start at once.
import { sql } from 'kysely';
import type { Db } from './index.js';
import { isDatabaseUnavailable } from './unavailable.js';

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

export interface RetryNotice {
  /** the failed try, from 1 */
  attempt: number;
  /** when the next try starts */
  retry_in_ms: number;
  /** why it failed: the error's message, never a stack */
  error: string;
}

/** Returns once the database answers a query; throws at once an error that waiting cannot fix. */
export async function waitForDatabase(db: Db, onRetry: (notice: RetryNotice) => void = () => {}): Promise<void> {
  let delay = FIRST_DELAY_MS;
  for (let n = 1; ; n++) {
    try {
      await sql`select 1`.execute(db);
      return;
    } catch (e) {
      if (!isDatabaseUnavailable(e)) throw e;
      onRetry({ attempt: n, retry_in_ms: delay, error: describe(e) });
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

function describe(e: unknown): string {
  const err = e as Error & { code?: string };
  // Node's errors of a name with several addresses say nothing themselves (AggregateError)
  const message = err.message || (err instanceof AggregateError ? err.errors.map((x: Error) => x.message).join('; ') : '');
  return message || err.code || String(e);
}
