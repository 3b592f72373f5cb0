// OpenID Connect Back-Channel Logout 1.0: the clients each login session signed in to, and the
// outbox of logout tokens to deliver. Deliveries are claimed with one UPDATE ... WHERE id IN
// (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING, so with several instances each row is tried by
// one at a time; a claim lapses at locked_until, so a row of an instance that died is taken over.
import { sql } from 'kysely';
import type { Db } from '../db/index.js';

export interface LogoutDelivery {
  id: number;
  client_id: string;
  /** the user's own sub */
  sub: string;
  sid: string;
  /** attempts made, this one included */
  attempts: number;
}

const table = 'backchannel_logout_deliveries' as const;

export class BackchannelLogoutRepository {
  constructor(private readonly db: Db) {}

  /** Records that the login session answered an OpenID Connect authorization request of this client. */
  async recordSessionClient(sessionIdHash: string, clientId: string): Promise<void> {
    await this.db
      .insertInto('login_session_clients')
      .values({ session_id_hash: sessionIdHash, client_id: clientId })
      .onConflict((oc) => oc.columns(['session_id_hash', 'client_id']).doNothing())
      .execute();
  }

  async sessionClients(sessionIdHash: string): Promise<string[]> {
    const rows = await this.db.selectFrom('login_session_clients').select('client_id').where('session_id_hash', '=', sessionIdHash).execute();
    return rows.map((r) => r.client_id);
  }

  /**
   * Ends a login session, in one transaction: marks it ended, queues a logout token for each of
   * `notify` and revokes the grants given in it without offline_access (Back-Channel Logout 1.0
   * §2.7). Nothing is queued when the session had ended already. Returns whether it ended now.
   */
  async endSession(sessionIdHash: string, sid: string, notify: string[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const ended = await trx
        .updateTable('login_sessions')
        .set({ ended_at: sql`now()` })
        .where('id_hash', '=', sessionIdHash)
        .where('ended_at', 'is', null)
        .returning('sub')
        .executeTakeFirst();
      if (!ended) return false;
      if (notify.length) await trx.insertInto(table).values(notify.map((client_id) => ({ client_id, sub: ended.sub, sid }))).execute();
      await trx
        .updateTable('grants')
        .set({ revoked_at: sql`now()` })
        .where('session_id_hash', '=', sessionIdHash)
        .where('revoked_at', 'is', null)
        .where(sql<boolean>`' ' || scope || ' ' not like '% offline_access %'`)
        .execute();
      return true;
    });
  }

  /**
   * A new login of the same user replaces a session: the old one ends quietly and what it
   * signed in to, and the grants given in it, belong to the new one, so its logout covers them.
   */
  async handOver(fromIdHash: string, toIdHash: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('login_sessions').set({ ended_at: sql`now()` }).where('id_hash', '=', fromIdHash).where('ended_at', 'is', null).execute();
      await trx.updateTable('login_session_clients').set({ session_id_hash: toIdHash }).where('session_id_hash', '=', fromIdHash).execute();
      await trx.updateTable('grants').set({ session_id_hash: toIdHash }).where('session_id_hash', '=', fromIdHash).execute();
    });
  }

  /** Claims up to `limit` due deliveries for `leaseMs`, counting the attempt. */
  async claim(limit: number, leaseMs: number): Promise<LogoutDelivery[]> {
    const due = this.db
      .selectFrom(table)
      .select('id')
      .where('next_attempt_at', '<=', sql<Date>`now()`)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', sql<Date>`now()`)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .forUpdate()
      .skipLocked();
    return this.db
      .updateTable(table)
      .set({ attempts: sql`attempts + 1`, locked_until: sql`now() + ${leaseMs} * interval '1 millisecond'` })
      .where('id', 'in', due)
      .returning(['id', 'client_id', 'sub', 'sid', 'attempts'])
      .execute();
  }

  /** Delivered, or given up: the row goes. */
  async remove(id: number): Promise<void> {
    await this.db.deleteFrom(table).where('id', '=', id).execute();
  }

  /** A failed attempt: tried again after `delayMs`, by whichever instance claims it then. */
  async retryLater(id: number, delayMs: number, error: string): Promise<void> {
    await this.db
      .updateTable(table)
      .set({ next_attempt_at: sql`now() + ${delayMs} * interval '1 millisecond'`, locked_until: null, last_error: error })
      .where('id', '=', id)
      .execute();
  }

  /** Milliseconds until the next delivery is due (0 when one is due now), or undefined when none is queued. */
  async msUntilNextDue(): Promise<number | undefined> {
    const r = await this.db
      .selectFrom(table)
      .select(sql<number | null>`extract(epoch from min(greatest(next_attempt_at, coalesce(locked_until, next_attempt_at))) - now()) * 1000`.as('ms'))
      .executeTakeFirst();
    const ms = r?.ms;
    return ms === null || ms === undefined ? undefined : Math.max(0, Number(ms));
  }
}
