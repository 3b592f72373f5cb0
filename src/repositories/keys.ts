import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { SigningKeyRow } from '../db/schema.js';

export class KeysRepository {
  constructor(private readonly db: Db) {}

  /** Keys still published: active ones and retired ones whose tokens may still be alive. */
  async published(): Promise<SigningKeyRow[]> {
    return this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('publish_until', 'is', null), eb('publish_until', '>', sql<Date>`now()`)]))
      .orderBy('created_at', 'desc')
      .execute();
  }

  async insert(k: { kid: string; alg: string; public_jwk: object; private_jwk_encrypted: string }): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({ ...k, public_jwk: JSON.stringify(k.public_jwk) })
      .execute();
  }

  /**
   * Inserts a first key for an algorithm unless another instance already did. A transaction-scoped
   * advisory lock makes "check, then insert" safe when two instances start on one empty database.
   */
  async insertIfNoActive(alg: string, create: () => Promise<{ kid: string; public_jwk: object; private_jwk_encrypted: string }>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`signing_keys:${alg}`}))`.execute(trx);
      const active = await trx.selectFrom('signing_keys').select('kid').where('alg', '=', alg).where('retired_at', 'is', null).executeTakeFirst();
      if (active) return;
      const k = await create();
      await trx.insertInto('signing_keys').values({ ...k, alg, public_jwk: JSON.stringify(k.public_jwk) }).execute();
    });
  }

  /** Retires the active keys of an algorithm except `keepKid`; they stay published for `publishSeconds`. */
  async retireOthers(alg: string, keepKid: string, publishSeconds: number): Promise<number> {
    const r = await this.db
      .updateTable('signing_keys')
      .set({ retired_at: sql`now()`, publish_until: sql`now() + make_interval(secs => ${publishSeconds})` })
      .where('alg', '=', alg)
      .where('kid', '!=', keepKid)
      .where('retired_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
