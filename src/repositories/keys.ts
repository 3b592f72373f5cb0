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
      .orderBy('activates_at', 'desc')
      .orderBy('created_at', 'desc')
      .execute();
  }

  /** The algorithms that have a key not yet retired: those in use, each rotated by `keys rotate` and KEY_ROTATION_DAYS. */
  async activeAlgs(): Promise<string[]> {
    const rows = await this.db.selectFrom('signing_keys').select('alg').distinct().where('retired_at', 'is', null).orderBy('alg').execute();
    return rows.map((r) => r.alg);
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
   * Rotation: adds `k` as the next key of its algorithm. It is published at once and signs from
   * `delaySeconds` on (its activates_at); the key it replaces signs until then (its retired_at)
   * and stays published `publishSeconds` longer, while what it signed may still be valid.
   * Insert and retire are one transaction under the algorithm's advisory lock: two rotations at
   * once (two operators, two instances) run one after the other, so the later one retires the
   * earlier one's key and exactly one key is left without a retirement time. Without the lock
   * each could retire the other's new key and leave none to sign with.
   */
  async rotate(alg: string, k: NewKey, times: RotationTimes): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await lockAlg(trx, alg);
      await insertNext(trx, alg, k, times);
    });
  }

  /**
   * Automatic rotation: rotates as `rotate` does only when the newest key of `alg` is older than
   * `maxAgeDays`; returns the new kid, or undefined when no rotation was due. The age is read
   * under the algorithm's advisory lock, so of several instances checking at once one rotates and
   * the others then see its fresh key.
   */
  async rotateIfOlderThan(alg: string, maxAgeDays: number, create: () => Promise<NewKey>, times: RotationTimes): Promise<string | undefined> {
    return this.db.transaction().execute(async (trx) => {
      await lockAlg(trx, alg);
      const recent = await trx
        .selectFrom('signing_keys')
        .select('kid')
        .where('alg', '=', alg)
        .where('created_at', '>', sql<Date>`now() - make_interval(days => ${maxAgeDays})`)
        .executeTakeFirst();
      if (recent) return undefined;
      const k = await create();
      await insertNext(trx, alg, k, times);
      return k.kid;
    });
  }

  /**
   * SECRET_KEY rotation: passes every key's sealed private part to `reseal`, and stores what it
   * returns (undefined: leave the row as it is). One transaction with the rows locked (FOR
   * UPDATE): a second instance starting at the same moment waits, then reads the resealed rows.
   * A throw from `reseal` rolls everything back.
   */
  async resealAll(reseal: (kid: string, sealed: string) => string | undefined): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).orderBy('kid').forUpdate().execute();
      let changed = 0;
      for (const row of rows) {
        const resealed = reseal(row.kid, row.private_jwk_encrypted);
        if (resealed === undefined) continue;
        await trx.updateTable('signing_keys').set({ private_jwk_encrypted: resealed }).where('kid', '=', row.kid).execute();
        changed++;
      }
      return changed;
    });
  }
}

export interface RotationTimes {
  /** how long before the new key signs: longer than relying parties cache the JWKS */
  delaySeconds: number;
  /** how long the replaced key stays published once it stops signing */
  publishSeconds: number;
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

async function insertNext(trx: Transaction<Database>, alg: string, k: NewKey, { delaySeconds, publishSeconds }: RotationTimes): Promise<void> {
  const activatesAt = sql<Date>`now() + make_interval(secs => ${delaySeconds})`;
  await trx
    .insertInto('signing_keys')
    .values({ ...k, alg, public_jwk: JSON.stringify(k.public_jwk), activates_at: activatesAt })
    .execute();
  await trx
    .updateTable('signing_keys')
    .set({ retired_at: activatesAt, publish_until: sql`now() + make_interval(secs => ${delaySeconds + publishSeconds})` })
    .where('alg', '=', alg)
    .where('kid', '!=', k.kid)
    .where('retired_at', 'is', null)
    .execute();
}
