// Graceful shutdown on SIGTERM and SIGINT: stop taking connections, let every request in flight
// finish, close the database, exit 0. Past the grace period (SHUTDOWN_GRACE_SECONDS) the process
// exits 1 with whatever is still open.
import type { FastifyInstance } from 'fastify';

/** How often, while closing, keep-alive connections left idle by their last response are closed. */
const IDLE_SWEEP_MS = 100;

export interface ShutdownOptions {
  graceSeconds: number;
  /** stops timers and background work before the server closes */
  stop: () => void;
  /** closes what outlives the server (the database), once the last request has finished */
  close: () => Promise<void>;
}

export function gracefulShutdown(app: FastifyInstance, opts: ShutdownOptions): (signal: string) => Promise<void> {
  let closing = false;
  return async (signal) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal, grace_seconds: opts.graceSeconds }, 'shutting down');
    opts.stop();
    const force = setTimeout(() => {
      app.log.error({ grace_seconds: opts.graceSeconds }, 'shutdown: requests still open at the end of the grace period; exiting');
      process.exit(1);
    }, opts.graceSeconds * 1000).unref();
    // app.close() stops listening, closes idle keep-alive connections and answers a request that
    // arrives on an open one with 503 and `Connection: close` (Fastify's return503OnClosing). A
    // request in flight is answered as usual, keep-alive included (RFC 9112 §9.3), so its
    // connection goes idle afterwards and would hold the close until keepAliveTimeout (72 s):
    // such connections are closed as soon as they are idle (a server may close an idle
    // connection at any time, RFC 9112 §9.5).
    const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
    try {
      await app.close(); // resolves once the last connection has closed
      clearInterval(sweep);
      await opts.close();
      clearTimeout(force);
      process.exit(0);
    } catch (e) {
      app.log.error({ err: e }, 'shutdown failed');
      process.exit(1);
    }
  };
}
