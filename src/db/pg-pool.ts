// The PostgreSQL pool, bounded in time so that a database that is down or hangs costs a request a
// few seconds and a 503, never a hang: connecting (or waiting for a free connection) gives up
// after DATABASE_CONNECT_TIMEOUT, a statement after DATABASE_QUERY_TIMEOUT. When the database
// comes back, the pool simply opens new connections: nothing needs a restart.
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Env } from '../config/env.js';
import { isDatabaseUnavailable } from './unavailable.js';

export interface PoolTimeouts {
  /** seconds to open a connection or wait for a free one */
  connectTimeout: number;
  /** seconds a statement may run (PostgreSQL's statement_timeout) */
  queryTimeout: number;
}

export const DEFAULT_TIMEOUTS: PoolTimeouts = { connectTimeout: 3, queryTimeout: 5 };

export function poolTimeouts(env: Pick<Env, 'DATABASE_CONNECT_TIMEOUT' | 'DATABASE_QUERY_TIMEOUT'>): PoolTimeouts {
  return { connectTimeout: env.DATABASE_CONNECT_TIMEOUT, queryTimeout: env.DATABASE_QUERY_TIMEOUT };
}

/**
 * A pg Pool (`pool`, for monitoring) and what Kysely's PostgresDialect takes connections from
 * (`connections`). A connection whose query failed because the database was lost or stopped
 * answering is destroyed when it is released instead of going back to the pool: after pg's
 * client-side query timeout the connection may still wait for the answer to the abandoned
 * query, and the next request handed that connection would wait behind it.
 */
export function createPool(connectionString: string, max: number, timeouts: PoolTimeouts = DEFAULT_TIMEOUTS): { pool: pg.Pool; connections: PostgresPool } {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: timeouts.connectTimeout * 1000,
    // the server cancels a statement that runs too long (SQLSTATE 57014) and the connection stays usable...
    statement_timeout: timeouts.queryTimeout * 1000,
    // ...and a server that does not answer at all is given up on a second later, client side
    query_timeout: timeouts.queryTimeout * 1000 + 1000,
    // a dead peer on an idle connection is noticed by TCP instead of by the next request
    keepAlive: true,
  });
  // an idle client losing its connection must not crash the process; the pool drops it
  pool.on('error', () => {});
  // Kysely keys its connections by the client object, so each pg client keeps one wrapper
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let lost = false;
    // pg-pool listens for a connection error only while the client is idle; one lost while a
    // request holds the client would otherwise be an uncaught 'error' event that ends the process
    client.on('error', () => {
      lost = true;
    });
    const query = (...args: unknown[]) => {
      const result = (client.query as (...a: unknown[]) => unknown)(...args);
      if (result instanceof Promise)
        return result.catch((e: unknown) => {
          // a server-side refusal (statement_timeout, shutdown) comes over a connection that
          // either still works or is closing anyway; anything else means it cannot be trusted
          if (isDatabaseUnavailable(e) && !(e instanceof pg.DatabaseError)) lost = true;
          throw e;
        });
      return result; // a cursor (streamed query)
    };
    return {
      query: query as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy || lost),
    };
  };
  const connections: PostgresPool = {
    async connect() {
      const client = await pool.connect();
      let w = wrappers.get(client);
      if (!w) wrappers.set(client, (w = wrap(client)));
      return w;
    },
    end: () => pool.end(),
  };
  return { pool, connections };
}
