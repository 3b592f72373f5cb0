// The registry version: a counter in the settings table that every sync of the client registry
// and the users file raises in the same transaction, so that other instances on the database
// can tell, with one cheap read, that their copy of the registry is old.
import { sql } from 'kysely';
import type { Db } from '../db/index.js';

const NAME = 'registry_version';

export class RegistryVersionRepository {
  constructor(private readonly db: Db) {}

  /** Raises the version; returns the new one. Inside the sync's transaction, so it shows only with the rows. */
  async bump(): Promise<string> {
    const row = await this.db
      .insertInto('settings')
      .values({ name: NAME, value: '1' })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql<string>`(settings.value::bigint + 1)::text` }))
      .returning('value')
      .executeTakeFirstOrThrow();
    return row.value;
  }

  /** The version now; undefined before the first sync. */
  async current(): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('name', '=', NAME).executeTakeFirst();
    return row?.value;
  }
}
