// What the database layer tells monitoring (src/metrics): how busy the connection pool is and
// which errors it met. openDatabase attaches a monitor to every Kysely instance it opens; the
// metrics read it at scrape time, so queries pay only a few counter updates.
import { Kysely, type Dialect, type LogEvent } from 'kysely';
import type pg from 'pg';
import type { Database } from './schema.js';

export interface PoolUse {
  /** connections the pool may open */
  max: number;
  /** connections open now */
  open: number;
  /** open connections no query holds */
  idle: number;
  /** queries waiting for a connection */
  waiting: number;
}

export type DbErrorKind = 'connect' | 'query' | 'idle_client';

export class DbMonitor {
  readonly errors: Record<DbErrorKind, number> = { connect: 0, query: 0, idle_client: 0 };
  private inUse = 0;
  private waiting = 0;

  /** `pool`: the pg Pool; without one (PGlite) the database is a single connection */
  constructor(private readonly pool?: pg.Pool) {
    // an idle client losing its connection (the server restarted, a network cut)
    pool?.on('error', () => void this.errors.idle_client++);
  }

  use(): PoolUse {
    if (this.pool) return { max: this.pool.options.max, open: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
    return { max: 1, open: 1, idle: this.inUse > 0 ? 0 : 1, waiting: this.waiting };
  }

  /** Kysely's `log` hook: it reports every query, and every query that failed. */
  readonly log = (event: LogEvent): void => {
    if (event.level === 'error') this.errors.query++;
  };

  /** The dialect, with its driver counting connections handed out, waited for and refused. */
  dialect(inner: Dialect): Dialect {
    return {
      createAdapter: () => inner.createAdapter(),
      createIntrospector: (db) => inner.createIntrospector(db),
      createQueryCompiler: () => inner.createQueryCompiler(),
      createDriver: () => {
        const driver = inner.createDriver();
        const acquire = driver.acquireConnection.bind(driver);
        const release = driver.releaseConnection.bind(driver);
        driver.acquireConnection = async () => {
          this.waiting++;
          try {
            const connection = await acquire();
            this.inUse++;
            return connection;
          } catch (e) {
            this.errors.connect++;
            throw e;
          } finally {
            this.waiting--;
          }
        };
        driver.releaseConnection = async (connection) => {
          this.inUse--;
          return release(connection);
        };
        return driver;
      },
    };
  }
}

const monitors = new WeakMap<Kysely<Database>, DbMonitor>();

/** A Kysely instance over `dialect`, watched by a new monitor (see dbMonitor). */
export function monitoredDb(dialect: Dialect, pool?: pg.Pool): Kysely<Database> {
  const monitor = new DbMonitor(pool);
  const db = new Kysely<Database>({ dialect: monitor.dialect(dialect), log: monitor.log });
  monitors.set(db, monitor);
  return db;
}

/** The monitor of a database opened by openDatabase. */
export function dbMonitor(db: Kysely<Database>): DbMonitor | undefined {
  return monitors.get(db);
}
