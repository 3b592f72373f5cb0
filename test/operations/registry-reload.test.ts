// Issue 8 point 3: SIGHUP reloads CLIENTS_FILE and USERS_FILE on a running server (INTERFACE.md
// "Client registry"), through the loader a start uses. A bad file is refused with the line a
// start would print and the registry in force stays, whole. The real entry point runs in a
// child process, on PGlite or, with TEST_DATABASE_URL, on PostgreSQL.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../support/harness.js';
import { sleep, startServerProcess, type LogLine, type ServerProcess } from './server-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'reload-'));
const CLIENTS_FILE = path.join(dir, 'clients.json');
const USERS_FILE = path.join(dir, 'users.json');

const SECRET = { a: 'svc-a-secret-0123456789-0123456789-0123', b: 'svc-b-secret-0123456789-0123456789-0123', c: 'svc-c-secret-0123456789-0123456789-0123', app: 'app-secret-0123456789-0123456789-012345' };
const service = (id: 'a' | 'b' | 'c') => ({ client_id: `svc-${id}`, client_secret: SECRET[id], grant_types: ['client_credentials'] });
// the password grant, to see users of USERS_FILE sign in
const passwordApp = { client_id: 'app', client_secret: SECRET.app, grant_types: ['password'], token_endpoint_auth_method: 'client_secret_post', scope: 'openid' };
const user = (username: string, sub: string) => ({ username, password: `${username}-password-1`, sub });

function writeFiles(clients: object[], users: object[]) {
  writeFileSync(CLIENTS_FILE, JSON.stringify({ clients }));
  writeFileSync(USERS_FILE, JSON.stringify({ users }));
}

let server: ServerProcess;

async function clientToken(id: 'a' | 'b' | 'c', on: ServerProcess = server): Promise<number> {
  const r = await fetch(`${on.base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`svc-${id}:${SECRET[id]}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  return r.status;
}

async function signIn(username: string): Promise<number> {
  const r = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'app', client_secret: SECRET.app, username, password: `${username}-password-1`, scope: 'openid' }),
  });
  return r.status;
}

/** Sends SIGHUP and waits for the reload's one log line (reloaded or refused); returns it and the lines logged at error level since. */
async function sighup(): Promise<{ line: LogLine; errors: LogLine[] }> {
  const before = server.logs().length;
  server.child.kill('SIGHUP');
  const line = await server.waitForLog((l) => /^registry reload/.test(l.msg ?? ''), { from: before });
  return { line, errors: server.logs().slice(before).filter((l) => l.level >= 50) };
}

beforeAll(async () => {
  writeFiles([service('a'), passwordApp], [user('alice', 'alice-1')]);
  server = await startServerProcess({ CLIENTS_FILE, USERS_FILE });
});
afterAll(async () => server?.dispose());

describe('SIGHUP on a running server', () => {
  it('serves the registry and users of the files at start', async () => {
    expect(await clientToken('a')).toBe(200);
    expect(await clientToken('b')).toBe(401);
    expect(await signIn('alice')).toBe(200);
    expect(await signIn('bob')).toBe(400);
  });

  it('reloads both files: a new client and a new user work, a removed client stops working', async () => {
    writeFiles([service('b'), passwordApp], [user('alice', 'alice-1'), user('bob', 'bob-1')]);
    const { line, errors } = await sighup();
    expect(line).toMatchObject({ level: 30, msg: 'registry reloaded', trigger: 'SIGHUP', clients: 2, disabled: 1, users: 2 });
    expect(errors).toEqual([]);
    expect(await clientToken('b')).toBe(200);
    expect(await clientToken('a')).toBe(401);
    expect(await signIn('bob')).toBe(200);
  });

  it('refuses a bad registry with the one line a start prints, and keeps the registry in force', async () => {
    writeFiles([{ ...service('c'), redirect_uris: ['https://app.example.com/cb#x'] }], [user('alice', 'alice-1')]);
    const { line, errors } = await sighup();
    // the same words as at start (test/foundation/start.test.ts): file, field, problem
    expect(line.msg).toBe(`registry reload refused, the registry in force is kept: ${CLIENTS_FILE}: clients[0].redirect_uris[0]: must be an absolute URL without a fragment`);
    expect(errors).toEqual([line]);
    expect(Object.keys(line).sort()).toEqual(['hostname', 'level', 'msg', 'pid', 'time', 'trigger']); // no error object, so no stack
    expect(server.stdout()).not.toContain('"stack"');
    expect(await clientToken('b')).toBe(200);
    expect(await clientToken('c')).toBe(401);
    expect(await signIn('bob')).toBe(200);
  });

  it('keeps serving the registry in force when the users file is refused at the database (test/operations/registry-sync.test.ts: nothing written)', async () => {
    // bob already has sub bob-1; a sub never changes, which only the database can tell
    writeFiles([service('c'), passwordApp], [user('alice', 'alice-1'), user('bob', 'bob-2')]);
    const { line, errors } = await sighup();
    expect(line.msg).toBe(`registry reload refused, the registry in force is kept: ${USERS_FILE}: user bob already has sub bob-1; a sub never changes (OpenID Connect Core §2)`);
    expect(errors).toEqual([line]);
    expect(await clientToken('b')).toBe(200);
    expect(await clientToken('c')).toBe(401);
  });

  it('still exits 0 on SIGTERM after the reloads', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toBe('');
  });
});

// src/main.ts watches the registry version on PostgreSQL. PGlite allows one process per data
// directory, so there the CLI cannot sync beside a running server, and SIGHUP is the way (README).
describe('another process on the same database', () => {
  it(
    TEST_DATABASE_URL
      ? 'a second server on the PostgreSQL database picks up a SIGHUP reload of the first within seconds'
      : 'on PGlite, `clients sync` is refused while the server holds DATA_DIR',
    async () => {
      writeFiles([service('a')], []);
      if (TEST_DATABASE_URL) {
        const first = await startServerProcess({ CLIENTS_FILE, USERS_FILE });
        const second = await startServerProcess({ CLIENTS_FILE, USERS_FILE }, { databaseUrl: first.databaseUrl }).catch(async (e: unknown) => {
          await first.dispose();
          throw e;
        });
        try {
          expect(await clientToken('b', second)).toBe(401);
          writeFiles([service('b')], []);
          first.child.kill('SIGHUP');
          await first.waitForLog((l) => l.msg === 'registry reloaded');
          // its client cache is younger than its 30 s refresh: only the version poll shows the change
          const started = Date.now();
          while ((await clientToken('b', second)) !== 200 && Date.now() - started < 10_000) await sleep(100);
          expect(await clientToken('b', second)).toBe(200);
          expect(await clientToken('a', second)).toBe(401);
          await second.waitForLog((l) => l.msg === 'registry changed on the database; clients reloaded');
        } finally {
          await second.dispose();
          await first.dispose();
        }
        return;
      }
      const dataDir = mkdtempSync(path.join(tmpdir(), 'reload-pglite-'));
      const running = await startServerProcess({ CLIENTS_FILE, USERS_FILE, DATA_DIR: dataDir });
      try {
        const cli = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'clients', 'sync'], {
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, DATABASE_URL: '', CLIENTS_FILE, USERS_FILE },
        });
        const refused = (await cli.then(
          () => ({ code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => e,
        )) as { code: number; stderr: string };
        expect(refused.code).toBe(1);
        expect(refused.stderr).toBe(`error: database: ${dataDir} is in use by process ${running.child.pid}; PGlite allows one process at a time (stop it, or use DATABASE_URL)\n`);
      } finally {
        await running.dispose();
      }
    },
    120_000,
  );
});
