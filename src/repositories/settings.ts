import type { Db } from '../db/index.js';

export class SettingsRepository {
  constructor(private readonly db: Db) {}

  async get(name: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
    return r?.value;
  }

  /** Stores the value unless one is there already; returns the one that is kept (first writer wins). */
  async getOrCreate(name: string, create: () => string): Promise<string> {
    await this.db.insertInto('settings').values({ name, value: create() }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const v = await this.get(name);
    if (v === undefined) throw new Error(`setting ${name} vanished`);
    return v;
  }
}
