// Clients: synced from the registry file at start; the file is the source of truth.
import { sql } from 'kysely';
import type { ClientConfig } from '../config/clients.js';
import { sha256 } from '../crypto/hash.js';
import type { Db } from '../db/index.js';

export type ClientMetadata = Omit<ClientConfig, 'client_secret'>;
export interface Client extends ClientMetadata {
  client_secret_hash: string | null;
  enabled: boolean;
}

export class ClientsRepository {
  constructor(private readonly db: Db) {}

  /** Creates or updates every client in the file; disables those no longer in it. One transaction. */
  async sync(configs: ClientConfig[]): Promise<{ upserted: number; disabled: number }> {
    return this.db.transaction().execute(async (trx) => {
      for (const { client_secret, ...metadata } of configs) {
        const row = {
          client_id: metadata.client_id,
          client_secret_hash: client_secret ? sha256(client_secret) : null,
          metadata: JSON.stringify(metadata),
          enabled: true,
        };
        await trx
          .insertInto('clients')
          .values(row)
          .onConflict((oc) =>
            oc.column('client_id').doUpdateSet({
              client_secret_hash: row.client_secret_hash,
              metadata: row.metadata,
              enabled: true,
              updated_at: sql`now()`,
            }),
          )
          .execute();
      }
      const ids = configs.map((c) => c.client_id);
      let disable = trx.updateTable('clients').set({ enabled: false, updated_at: sql`now()` }).where('enabled', '=', true);
      if (ids.length) disable = disable.where('client_id', 'not in', ids);
      const result = await disable.executeTakeFirst();
      return { upserted: configs.length, disabled: Number(result.numUpdatedRows) };
    });
  }

  async findAll(): Promise<Client[]> {
    const rows = await this.db.selectFrom('clients').selectAll().execute();
    return rows.map((r) => ({ ...(r.metadata as unknown as ClientMetadata), client_secret_hash: r.client_secret_hash, enabled: r.enabled }));
  }

  async find(clientId: string): Promise<Client | undefined> {
    const r = await this.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return r && { ...(r.metadata as unknown as ClientMetadata), client_secret_hash: r.client_secret_hash, enabled: r.enabled };
  }
}

/**
 * In-process view of the enabled clients, so that client authentication on /token costs no
 * database round trip. It is refreshed from the database after every registry sync on this
 * instance and every CLIENT_CACHE_TTL_MS; the registry file is the source of truth and every
 * instance syncs the same file at start, so a stale entry can only be a client that the file
 * also still lists.
 */
export class ClientCache {
  private clients = new Map<string, Client>();
  private origins = new Set<string>();
  private loadedAt = 0;
  static readonly TTL_MS = 30_000;

  constructor(private readonly repo: ClientsRepository) {}

  async reload(): Promise<void> {
    const all = await this.repo.findAll();
    this.clients = new Map(all.filter((c) => c.enabled).map((c) => [c.client_id, c]));
    this.origins = new Set(
      [...this.clients.values()].flatMap((c) => c.redirect_uris.map((u) => new URL(u)).filter((u) => u.protocol === 'https:' || u.protocol === 'http:').map((u) => u.origin)),
    );
    this.loadedAt = Date.now();
  }

  /** True when `origin` is the origin of a redirect URI of an enabled client (CORS for browser apps). */
  async isClientOrigin(origin: string): Promise<boolean> {
    if (Date.now() - this.loadedAt > ClientCache.TTL_MS) await this.reload();
    return this.origins.has(origin);
  }

  /** An enabled client, or undefined for unknown and disabled ones. */
  async get(clientId: string): Promise<Client | undefined> {
    if (Date.now() - this.loadedAt > ClientCache.TTL_MS) await this.reload();
    return this.clients.get(clientId);
  }
}
