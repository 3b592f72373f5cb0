// Clients: synced from the registry file at start; the file is the source of truth.
import { sql } from 'kysely';
import type { ClientConfig } from '../config/clients.js';
import { sha256 } from '../crypto/hash.js';
import type { Db } from '../db/index.js';
import { RefreshAhead } from '../db/refresh-ahead.js';

export type ClientMetadata = Omit<ClientConfig, 'client_secret'>;
export interface Client extends ClientMetadata {
  client_secret_hash: string | null;
  enabled: boolean;
}

export class ClientsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Creates or updates every client in the file; disables those no longer in it. One transaction:
   * its own, or the caller's when this repository was made on one (the registry and users sync).
   */
  async sync(configs: ClientConfig[]): Promise<{ upserted: number; disabled: number }> {
    const run = async (trx: Db) => {
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
    };
    return this.db.isTransaction ? run(this.db) : this.db.transaction().execute(run);
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
 * database round trip. It is reloaded after every registry sync on this instance (start,
 * SIGHUP), when the registry version shows a sync made elsewhere (on PostgreSQL, read every 2 s:
 * src/operations/registry-reload.ts), and in the background once it is older than TTL_MS
 * (src/db/refresh-ahead.ts). So a client removed from the registry can still authenticate on
 * another instance for those seconds, and no longer.
 */
export class ClientCache {
  private clients = new Map<string, Client>();
  private origins = new Set<string>();
  static readonly TTL_MS = 30_000;
  private readonly refresher = new RefreshAhead(() => this.load(), ClientCache.TTL_MS);

  constructor(private readonly repo: ClientsRepository) {}

  /** Reads the registry from the database now (after a sync), and waits for it. */
  reload(): Promise<void> {
    return this.refresher.reload();
  }

  private async load(): Promise<void> {
    const all = await this.repo.findAll();
    const clients = new Map(all.filter((c) => c.enabled).map((c) => [c.client_id, c]));
    this.origins = new Set(
      [...clients.values()].flatMap((c) => c.redirect_uris.map((u) => new URL(u)).filter((u) => u.protocol === 'https:' || u.protocol === 'http:').map((u) => u.origin)),
    );
    this.clients = clients;
  }

  /** True when `origin` is the origin of a redirect URI of an enabled client (CORS for browser apps). */
  async isClientOrigin(origin: string): Promise<boolean> {
    const first = this.refresher.due();
    if (first) await first;
    return this.origins.has(origin);
  }

  /** An enabled client, or undefined for unknown and disabled ones. */
  async get(clientId: string): Promise<Client | undefined> {
    const first = this.refresher.due();
    if (first) await first;
    return this.clients.get(clientId);
  }
}
