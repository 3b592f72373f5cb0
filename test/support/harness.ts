// Test harness: a real app on a fresh database per call. PGlite from the migrated template by
// default; a throwaway PostgreSQL database when TEST_DATABASE_URL is set.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { syncClients, syncUsers } from '../../src/bootstrap.js';
import { clientSchema, type ClientConfig } from '../../src/config/clients.js';
import { loadEnv } from '../../src/config/env.js';
import { createContext, type AppContext } from '../../src/context.js';
import { migrate, openDatabase, type Db } from '../../src/db/index.js';
import { randomToken } from '../../src/crypto/random.js';
import type { UserConfig } from '../../src/config/users.js';

const TEMPLATE = path.resolve('.test-cache/pglite-template.tar.gz');

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

/** A fresh, migrated database: PGlite from the template, or a new PostgreSQL database. */
export async function freshDatabase(): Promise<{ db: Db; url?: string; drop: () => Promise<void> }> {
  if (TEST_DATABASE_URL) {
    const name = `t_${randomToken(9).toLowerCase().replace(/[^a-z0-9]/g, '')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    const db = await openDatabase({ databaseUrl: url.href, poolSize: 5 });
    await migrate(db);
    return {
      db,
      url: url.href,
      drop: async () => {
        await db.destroy();
        const a = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`);
        await a.end();
      },
    };
  }
  const db = await openDatabase({ dataDir: 'memory://', loadDataDir: new Blob([readFileSync(TEMPLATE)]) });
  await migrate(db);
  return { db, drop: () => db.destroy() };
}

export const SECRETS = {
  web: 'web-secret-0123456789-0123456789-0123456789',
  service: 'service-secret-0123456789-0123456789-01234',
  legacy: 'legacy-secret-0123456789-0123456789-012345',
};

export const REDIRECT = 'http://127.0.0.1:8080/callback';

/** Clients for tests: one per flow, like the demo registry. */
export function defaultClients(): ClientConfig[] {
  const raw = [
    {
      client_id: 'web',
      client_secret: SECRETS.web,
      client_name: 'Test web app',
      redirect_uris: [REDIRECT, 'https://app.example.com/cb'],
      post_logout_redirect_uris: ['http://127.0.0.1:8080/bye'],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email address phone offline_access',
    },
    { client_id: 'spa', client_name: 'Test SPA', redirect_uris: ['http://localhost:5173/cb'], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', scope: 'openid profile email offline_access' },
    { client_id: 'implicit', client_name: 'Test implicit app', redirect_uris: ['https://implicit.example.com/cb'], grant_types: ['implicit'], response_types: ['id_token', 'id_token token'], token_endpoint_auth_method: 'none', scope: 'openid profile email' },
    { client_id: 'service', client_secret: SECRETS.service, grant_types: ['client_credentials'], scope: 'invoices:read invoices:write', audience: ['https://api.example.com', 'https://other.example.com'] },
    { client_id: 'tv', client_name: 'Test TV', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], token_endpoint_auth_method: 'none', scope: 'openid profile offline_access' },
    { client_id: 'legacy', client_secret: SECRETS.legacy, grant_types: ['password', 'refresh_token'], token_endpoint_auth_method: 'client_secret_post', scope: 'openid profile email offline_access' },
  ];
  return raw.map((c) => clientSchema.parse(c));
}

export const ALICE = { username: 'alice', password: 'alice-password-123', sub: 'alice-sub-1' };

export function defaultUsers(): UserConfig[] {
  return [
    {
      username: ALICE.username,
      password: ALICE.password,
      sub: ALICE.sub,
      claims: { name: 'Alice Example', given_name: 'Alice', family_name: 'Example', email: 'alice@example.com', email_verified: true, phone_number: '+1 555 0100', address: { country: 'US' } },
    },
  ];
}

export interface TestServer {
  ctx: AppContext;
  app: FastifyInstance;
  /** the issuer, also the base URL when listening */
  issuer: string;
  close: () => Promise<void>;
}

export interface TestServerOptions {
  /** or a function of the issuer, for registries that name it (`${ISSUER}`) */
  clients?: ClientConfig[] | ((issuer: string) => ClientConfig[]);
  users?: UserConfig[];
  env?: Record<string, string>;
  /** listen on a real port (for openid-client and other HTTP clients); default: inject only */
  listen?: boolean;
  /** share a database with another server (two instances) */
  db?: Db;
  /** the keystore's clock (epoch ms), to move past a key's publication delay */
  now?: () => number;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const fresh = opts.db ? undefined : await freshDatabase();
  const db = opts.db ?? fresh!.db;
  // the port is known only after listen; the issuer is fixed first, so reserve a port
  const port = opts.listen ? await freePort() : 0;
  const issuer = opts.listen ? `http://127.0.0.1:${port}` : 'http://localhost:3000';
  const env = loadEnv({ ISSUER: issuer, PORT: String(port), SECRET_KEY: 'test-secret-key-0123456789-0123456789', LOG_LEVEL: 'silent', ...opts.env });
  const ctx = await createContext(env, db, { now: opts.now });
  await syncClients(ctx, typeof opts.clients === 'function' ? opts.clients(issuer) : (opts.clients ?? defaultClients()));
  await syncUsers(ctx, opts.users ?? defaultUsers());
  const app = await buildApp(ctx, { logger: false });
  if (opts.listen) await app.listen({ port, host: '127.0.0.1' });
  else await app.ready();
  return {
    ctx,
    app,
    issuer,
    close: async () => {
      await app.close();
      if (fresh) await fresh.drop();
    },
  };
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** Decodes a JWT payload without verifying (tests verify separately where it matters). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
