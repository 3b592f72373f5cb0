// Sign-in attempts, counted in the database so every instance behind a load balancer sees the
// same counts, and the addresses each user signed in from. Four counters:
//   pair    attempts of one username from one client address, but for successes (windowed; locks)
//   ip      attempts from one client address, every username, but for successes (windowed; locks)
//   user    failures of one username from every address (windowed; slows down)
//   account consecutive failures of one username, with no window (NIST SP 800-63B §5.2.2)
// Usernames are kept as their SHA-256 (lower-cased): people type passwords into the username
// field, and a copy of the database must not show them.
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { sha256 } from '../crypto/hash.js';

export type AttemptCounter = 'pair' | 'user' | 'ip' | 'account';

export interface CounterState {
  /** failures counted before this attempt: in the current window, or (account) since the last success */
  failures: number;
  /** seconds the counter stays locked; 0 when it is not */
  locked_seconds: number;
}

export type AttemptState = Record<AttemptCounter, CounterState>;

const COUNTERS: readonly AttemptCounter[] = ['pair', 'user', 'ip', 'account'];

function keysFor(username: string, ip: string): Record<AttemptCounter, string> {
  const name = sha256(username.toLowerCase());
  return { pair: `pair:${name}:${ip}`, user: `user:${name}`, ip: `ip:${ip}`, account: `account:${name}` };
}

export class LoginAttemptsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Counts an attempt on the pair and the address before the password is checked, so that
   * concurrent attempts cannot all slip under their limits, and returns every counter as it was
   * before it. `succeeded` takes the attempt back when the password was right; `failed` counts
   * it on the username and the account.
   */
  async begin(username: string, ip: string, windowSeconds: number): Promise<AttemptState> {
    const keys = keysFor(username, ip);
    const counted = await this.increment([keys.pair, keys.ip], windowSeconds);
    const current = await this.read([keys.user, keys.account], windowSeconds);
    return this.toState(keys, [...counted.map((r) => ({ ...r, failures: r.failures - 1 })), ...current]);
  }

  /** A wrong password: one more failure on the username and on the account. */
  async failed(username: string, ip: string, windowSeconds: number): Promise<void> {
    const keys = keysFor(username, ip);
    await this.increment([keys.user, keys.account], windowSeconds);
  }

  /**
   * One upsert. A windowed counter whose window of `windowSeconds` has passed starts again;
   * the account counter has no window.
   */
  private async increment(keys: string[], windowSeconds: number) {
    const fresh = sql<boolean>`(login_attempts.key like 'account:%' or login_attempts.window_started_at > now() - make_interval(secs => ${windowSeconds}))`;
    return this.db
      .insertInto('login_attempts')
      // sorted, so that two attempts sharing keys lock their rows in the same order (no deadlock)
      .values([...keys].sort().map((key) => ({ key, failures: 1 })))
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql`case when ${fresh} then login_attempts.failures + 1 else 1 end`,
          window_started_at: sql`case when ${fresh} then login_attempts.window_started_at else now() end`,
          last_attempt_at: sql`now()`,
        }),
      )
      .returning(['key', 'failures', sql<number>`greatest(0, ceil(extract(epoch from locked_until - now())))::int`.as('locked_seconds')])
      .execute();
  }

  private async read(keys: string[], windowSeconds: number) {
    return this.db
      .selectFrom('login_attempts')
      .select([
        'key',
        sql<number>`case when key like 'account:%' or window_started_at > now() - make_interval(secs => ${windowSeconds}) then failures else 0 end`.as('failures'),
        sql<number>`greatest(0, ceil(extract(epoch from locked_until - now())))::int`.as('locked_seconds'),
      ])
      .where('key', 'in', keys)
      .execute();
  }

  /** The counters as they stand, without counting an attempt. */
  async state(username: string, ip: string, windowSeconds: number): Promise<AttemptState> {
    const keys = keysFor(username, ip);
    return this.toState(keys, await this.read(Object.values(keys), windowSeconds));
  }

  private toState(keys: Record<AttemptCounter, string>, rows: { key: string; failures: number; locked_seconds: number }[]): AttemptState {
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const state = {} as AttemptState;
    for (const c of COUNTERS) {
      const row = byKey.get(keys[c]);
      state[c] = { failures: Number(row?.failures ?? 0), locked_seconds: Number(row?.locked_seconds ?? 0) };
    }
    return state;
  }

  async lock(username: string, ip: string, counter: AttemptCounter, seconds: number): Promise<void> {
    await this.db
      .updateTable('login_attempts')
      .set({ locked_until: sql`now() + make_interval(secs => ${seconds})` })
      .where('key', '=', keysFor(username, ip)[counter])
      .execute();
  }

  /**
   * A right password: the pair and the consecutive count start again (NIST SP 800-63B §5.2.2
   * counts consecutive failures, and disregards earlier failures from the address that
   * succeeded); the attempt `begin` counted on the address is taken back; the address becomes
   * one the user is known to sign in from.
   */
  async succeeded(username: string, ip: string, sub: string): Promise<void> {
    const keys = keysFor(username, ip);
    await this.db.deleteFrom('login_attempts').where('key', 'in', [keys.pair, keys.account]).execute();
    await this.db.updateTable('login_attempts').set({ failures: sql`greatest(failures - 1, 0)` }).where('key', '=', keys.ip).execute();
    await this.db
      .insertInto('login_known_addresses')
      .values({ sub, ip })
      .onConflict((oc) => oc.columns(['sub', 'ip']).doUpdateSet({ last_success_at: sql`now()` }))
      .execute();
  }

  /** Whether the user with this username signed in from this address within `days`. */
  async isKnownAddress(username: string, ip: string, days: number): Promise<boolean> {
    const r = await this.db
      .selectFrom('login_known_addresses')
      .innerJoin('users', 'users.sub', 'login_known_addresses.sub')
      .select('login_known_addresses.ip')
      .where('users.username', '=', username)
      .where('login_known_addresses.ip', '=', ip)
      .where('login_known_addresses.last_success_at', '>', sql<Date>`now() - make_interval(days => ${days})`)
      .executeTakeFirst();
    return !!r;
  }
}
