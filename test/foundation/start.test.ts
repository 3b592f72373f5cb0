// Start-up as an operator sees it: the real entry point in a child process. A bad setting stops
// the start with one line naming the file and field (never a stack trace); a good one serves,
// logs JSON without secrets, and SIGTERM ends it cleanly.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, TEST_DATABASE_URL } from '../support/harness.js';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const BASE_ENV = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  DATABASE_URL: '',
  DATA_DIR: 'memory://',
  CLIENTS_FILE: 'config/clients.json',
  USERS_FILE: 'config/users.json',
  LOG_LEVEL: 'info',
};

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { code: null, signal: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
  const exited = new Promise<Run>((resolve) =>
    child.on('exit', (code, signal) => {
      run.code = code;
      run.signal = signal;
      // let the pipes drain
      setTimeout(() => resolve(run), 50);
    }),
  );
  return { child, run, exited };
}

async function refusal(env: Record<string, string>): Promise<Run> {
  const { exited } = start(env);
  return exited;
}

function expectOneLine(r: Run, line: string) {
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`${line}\n`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// five servers start at once: on a loaded two-core machine loading the code alone can take 20 s
describe.concurrent('a bad setting stops the start with one clear line', { timeout: 120_000 }, () => {
  it('names the registry file and the field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'start-'));
    const file = path.join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify({ clients: [{ client_id: 'spa', redirect_uris: ['https://app.example.com/cb#x'], token_endpoint_auth_method: 'none' }] }));
    const r = await refusal({ CLIENTS_FILE: file });
    expectOneLine(r, `error: ${file}: clients[0].redirect_uris[0]: must be an absolute URL without a fragment`);
    expect(r.stdout).toBe('');
  });

  it('names a registry file that cannot be read', async () => {
    expectOneLine(await refusal({ CLIENTS_FILE: 'config/no-such-file.json' }), 'error: config/no-such-file.json: cannot read the client registry (ENOENT)');
  });

  it('names a bad environment variable', async () => {
    expectOneLine(await refusal({ PORT: 'eighty' }), 'error: environment: PORT: must be a port number from 0 to 65535');
  });

  it('refuses an http ISSUER in production', async () => {
    expectOneLine(
      await refusal({ NODE_ENV: 'production', ISSUER: 'http://id.example.com', SECRET_KEY: 's'.repeat(40) }),
      'error: environment: ISSUER must be https:// in production',
    );
  });

  it('refuses production without SECRET_KEY', async () => {
    expectOneLine(await refusal({ NODE_ENV: 'production', ISSUER: 'https://id.example.com' }), 'error: environment: SECRET_KEY is required in production (32+ random characters)');
  });
});

describe('a good start', () => {
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => drop?.());

  it('serves, logs JSON with request ids and no secrets, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const env: Record<string, string> = { PORT: String(port), ISSUER: `http://127.0.0.1:${port}` };
    if (TEST_DATABASE_URL) {
      const fresh = await freshDatabase();
      await fresh.db.destroy();
      drop = fresh.drop;
      env.DATABASE_URL = fresh.url!;
    }
    const server = start(env);
    const base = `http://127.0.0.1:${port}`;
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (/"msg":"ready"/.test(server.run.stdout)) {
          clearInterval(timer);
          resolve();
        }
        if (server.run.code !== null) {
          clearInterval(timer);
          reject(new Error(`exited: ${server.run.stderr}`));
        }
      }, 50);
    });

    const ready = server.run.stdout.split('\n').find((l) => l.includes('"msg":"ready"'))!;
    expect(JSON.parse(ready)).toMatchObject({ level: 30, issuer: env.ISSUER, ready_ms: expect.any(Number) });
    // development: the ready line says where the playground is, and it is there
    expect(JSON.parse(ready)).toMatchObject({ playground: `${env.ISSUER}/playground` });
    expect((await fetch(`${env.ISSUER}/playground`)).status).toBe(200);
    // on PGlite the empty database came from the template npm install prepared, not from initdb
    if (!TEST_DATABASE_URL) expect(JSON.parse(ready)).toMatchObject({ database: 'pglite:memory://', pglite: 'template' });

    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // secrets in a header, a cookie, the query and a form body
    await fetch(`${base}/healthz?code=CODE-SECRET-1&client_id=keep-me&state=STATE-SECRET-2`, {
      headers: { authorization: 'Basic QVVUSC1TRUNSRVQtMw==', cookie: 'sid=COOKIE-SECRET-4', 'x-request-id': 'req-abc-123' },
    });
    await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'legacy-app', client_secret: 'BODY-SECRET-5', username: 'alice', password: 'PASSWORD-SECRET-6' }),
    });

    // lines are written in blocks, but reach stdout within a moment while the server runs
    // (src/logger.ts: at least every 250 ms), not only at exit
    const shownAt = Date.now();
    while (!server.run.stdout.includes('req-abc-123') && Date.now() - shownAt < 3000) await new Promise((r) => setTimeout(r, 50));
    expect(server.run.stdout).toContain('req-abc-123');

    server.child.kill('SIGTERM');
    const r = await server.exited;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');

    const logs = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    for (const secret of ['CODE-SECRET-1', 'STATE-SECRET-2', 'QVVUSC1TRUNSRVQtMw', 'COOKIE-SECRET-4', 'BODY-SECRET-5', 'PASSWORD-SECRET-6'])
      expect(r.stdout, secret).not.toContain(secret);
    // the request is still traceable: its id and the harmless part of the query are logged
    // in one line per request: what was asked, how it ended, how long it took
    expect(logs.filter((l) => l.reqId === 'req-abc-123')).toEqual([
      expect.objectContaining({
        msg: 'request completed',
        req: expect.objectContaining({ method: 'GET', url: '/healthz?code=%5Bredacted%5D&client_id=keep-me&state=%5Bredacted%5D' }),
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
    ]);
  }, 60_000);
});
