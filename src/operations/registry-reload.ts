// Reloading the client registry and the users file without a restart (INTERFACE.md: SIGHUP),
// and noticing a reload that another instance or `clients sync` made on the same database.
import type { FastifyBaseLogger } from 'fastify';
import { loadFiles } from '../bootstrap.js';
import { ConfigError } from '../config/env.js';
import type { AppContext } from '../context.js';
import { RegistryVersionRepository } from '../repositories/registry-version.js';
import { hashUsers, syncRegistry } from './registry-sync.js';

/** How often an instance on PostgreSQL reads the registry version (one indexed read). */
export const REGISTRY_POLL_MS = 2_000;

export class RegistryReloader {
  private queue: Promise<void> = Promise.resolve();
  private seen: string | undefined;
  private poll: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;
  private readonly versions: RegistryVersionRepository;

  constructor(
    private readonly ctx: AppContext,
    private readonly log: FastifyBaseLogger,
    private readonly source: NodeJS.ProcessEnv = process.env,
  ) {
    this.versions = new RegistryVersionRepository(ctx.db);
  }

  /**
   * Reads CLIENTS_FILE and USERS_FILE with the loader a start uses and syncs them in one
   * transaction. A bad file is refused with the line a start would print, and the registry in
   * force stays, whole. Reloads run one after another, never interleaved.
   */
  reload(trigger: string): Promise<void> {
    if (this.stopped) return this.queue; // shutting down: the database is closing
    this.queue = this.queue.then(() => this.reloadNow(trigger));
    return this.queue;
  }

  private async reloadNow(trigger: string): Promise<void> {
    try {
      const files = loadFiles(this.ctx.env, this.source);
      const result = await syncRegistry(this.ctx.db, { clients: files.clients, clientsFile: this.ctx.env.CLIENTS_FILE, users: await hashUsers(files.users), usersFile: this.ctx.env.USERS_FILE });
      this.seen = result.version;
      await this.ctx.clients.reload();
      this.log.info({ trigger, clients: result.clients, disabled: result.disabled, users: result.users, registry_version: result.version }, 'registry reloaded');
    } catch (e) {
      const problem = e instanceof ConfigError ? e.message : `reload failed: ${e instanceof Error ? e.message : String(e)}`;
      this.log.error({ trigger }, `registry reload refused, the registry in force is kept: ${problem}`);
    }
  }

  /**
   * Reloads the client cache when the registry version changes, read every REGISTRY_POLL_MS in
   * the background (never on a request's path): how a sync by another instance or by
   * `clients sync` reaches this one within seconds rather than the cache's 30 s. A poll rather
   * than LISTEN/NOTIFY works through connection poolers such as PgBouncer, and needs no
   * connection of its own. Only on PostgreSQL: PGlite allows one process per data directory.
   */
  watch(intervalMs = REGISTRY_POLL_MS): void {
    if (this.poll) return;
    this.poll = setInterval(() => void this.check(), intervalMs).unref();
    void this.check(); // the version now, so that the first change is told from no change
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    this.poll = undefined;
  }

  private async check(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const version = await this.versions.current();
      if (version === this.seen) return;
      const first = this.seen === undefined;
      this.seen = version;
      await this.ctx.clients.reload();
      if (!first) this.log.info({ registry_version: version }, 'registry changed on the database; clients reloaded');
    } catch (e) {
      // the database away for a moment: the copy in use stays right until someone changes the
      // registry, and the next poll tries again; /readyz is where a lost database shows
      this.log.debug({ err: e }, 'reading the registry version failed');
    } finally {
      this.polling = false;
    }
  }
}
