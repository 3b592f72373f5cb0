// Start: load config, open the database, migrate, build the app, listen, close with grace.
import path from 'node:path';
import pino from 'pino';
import { buildApp } from './app.js';
import { loadConfig, readDotEnv, start } from './bootstrap.js';
import { ConfigError } from './config/env.js';
import { scheduleKeyRotation } from './crypto/key-rotation.js';
import { flushLogs, logDestination, loggerOptions } from './logger.js';
import { CleanupJob } from './maintenance/cleanup.js';
import { RegistryReloader } from './operations/registry-reload.js';
import { gracefulShutdown } from './operations/shutdown.js';

async function main(): Promise<void> {
  readDotEnv();
  const config = loadConfig();
  let pglite: string | undefined;
  // PostgreSQL not reachable at start: one line per try while waiting for it (src/db/wait-for-database.ts)
  const startLog = pino(loggerOptions(config.env), logDestination());
  const ctx = await start(config, { onOpen: (created) => (pglite = created), onRetry: (notice) => startLog.warn(notice, 'database not reachable; retrying') });
  const app = await buildApp(ctx);
  await app.listen({ port: config.env.PORT, host: config.env.HOST });
  // since the process started (performance.timeOrigin), so module loading is counted too
  const readyMs = Math.round(performance.now());
  // The first-token command names the client and reads its secret from the registry file at
  // run time, so no secret is ever written to the log. Development only.
  const service = config.env.production ? undefined : config.clients.find((c) => c.grant_types.includes('client_credentials') && c.client_secret);
  const firstToken = service
    ? `curl -s -u "${service.client_id}:$(node -p "require('${path.resolve(config.env.CLIENTS_FILE)}').clients.find(c => c.client_id === '${service.client_id}').client_secret")" -d grant_type=client_credentials ${config.env.ISSUER}/token`
    : undefined;
  app.log.info(
    {
      issuer: config.env.ISSUER,
      discovery: `${config.env.ISSUER}/.well-known/openid-configuration`,
      ready_ms: readyMs,
      database: config.env.DATABASE_URL ? 'postgresql' : `pglite:${config.env.DATA_DIR}`,
      // how the embedded database came to be: unpacked from the install-time template, initdb, or already there
      ...(pglite ? { pglite } : {}),
      ...(firstToken ? { first_token: firstToken } : {}),
      // every flow, run in the browser with this server as the app (development only)
      ...(config.env.PLAYGROUND ? { playground: `${config.env.ISSUER}/playground` } : {}),
    },
    'ready',
  );
  flushLogs(); // whoever started the server is waiting for this line

  // rows past their life are deleted every CLEANUP_INTERVAL seconds (src/maintenance/cleanup.ts)
  const cleanup = new CleanupJob(config.env, ctx.db, app.log);
  cleanup.start();
  const keyRotation = scheduleKeyRotation(ctx, app.log); // KEY_ROTATION_DAYS, off by default

  // SIGHUP reloads CLIENTS_FILE and USERS_FILE; on PostgreSQL a reload elsewhere is seen too
  const registry = new RegistryReloader(ctx, app.log);
  if (config.env.DATABASE_URL) registry.watch();
  process.on('SIGHUP', () => void registry.reload('SIGHUP'));

  const shutdown = gracefulShutdown(app, {
    graceSeconds: config.env.SHUTDOWN_GRACE_SECONDS,
    stop: () => {
      keyRotation?.stop();
      registry.stop();
    },
    close: async () => {
      await cleanup.stop(); // lets a running batch finish
      await ctx.db.destroy(); // the pool / PGlite
    },
  });
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  // one clear line, no stack trace, non-zero exit
  const message = e instanceof ConfigError ? e.message : `start failed: ${e instanceof Error ? e.message : String(e)}`;
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
});
