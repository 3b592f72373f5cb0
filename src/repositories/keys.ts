import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/index.js';
import type { Database, SigningKeyRow } from '../db/schema.js';

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

  /**
   * Inserts a first key for an algorithm unless another instance already did. A transaction-scoped
   * advisory lock makes "check, then insert" safe when two instances start on one empty database.
   */
  async insertIfNoActive(alg: string, create: () => Promise<NewKey>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await lockAlg(trx, alg);
      const active = await trx.selectFrom('signing_keys').select('kid').where('alg', '=', alg).where('retired_at', 'is', null).executeTakeFirst();
      if (active) return;
      const k = await create();
      await trx.insertInto('signing_keys').values({ ...k, alg, public_jwk: JSON.stringify(k.public_jwk) }).execute();
    });
  }

  /**
   * Rotation: adds `k` as the active key of its algorithm and retires the others, which stay
   * published for `publishSeconds`. Insert and retire are one transaction under the algorithm's
   * advisory lock: two rotations at once (two operators, two instances) run one after the other,
   * so the later one retires the earlier one's key and exactly one key stays active. Without the
   * lock each could retire the other's new key and leave none to sign with.
   */
  async rotate(alg: string, k: NewKey, publishSeconds: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await lockAlg(trx, alg);
      await trx.insertInto('signing_keys').values({ ...k, alg, public_jwk: JSON.stringify(k.public_jwk) }).execute();
      await trx
        .updateTable('signing_keys')
        .set({ retired_at: sql`now()`, publish_until: sql`now() + make_interval(secs => ${publishSeconds})` })
        .where('alg', '=', alg)
        .where('kid', '!=', k.kid)
        .where('retired_at', 'is', null)
        .execute();
    });
  }
}

export interface NewKey {
  kid: string;
  public_jwk: object;
  private_jwk_encrypted: string;
}

/** Serialises key changes of one algorithm across every connection and instance (released at commit). */
async function lockAlg(trx: Transaction<Database>, alg: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`signing_keys:${alg}`}))`.execute(trx);
}
