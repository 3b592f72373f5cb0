// Consents (authorization): which scopes a user granted to a client, remembered per pair.
import { sql } from 'kysely';
import type { Db } from '../db/index.js';

export class ConsentsRepository {
  constructor(private readonly db: Db) {}

  async find(sub: string, clientId: string): Promise<Set<string>> {
    const r = await this.db.selectFrom('consents').select('scope').where('sub', '=', sub).where('client_id', '=', clientId).executeTakeFirst();
    return new Set(r ? r.scope.split(' ').filter(Boolean) : []);
  }

  /** Adds scopes to what the user already granted this client. */
  async grant(sub: string, clientId: string, scopes: Iterable<string>): Promise<void> {
    const merged = new Set([...(await this.find(sub, clientId)), ...scopes]);
    const scope = [...merged].join(' ');
    await this.db
      .insertInto('consents')
      .values({ sub, client_id: clientId, scope })
      .onConflict((oc) => oc.columns(['sub', 'client_id']).doUpdateSet({ scope, granted_at: sql`now()` }))
      .execute();
  }
}
