// The real entry point (src/main.ts) in a child process, as an operator starts it: for the
// tests that send it signals. Its JSON log lines are collected as they come.
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { freshDatabase, TEST_DATABASE_URL } from '../support/harness.js';

export interface LogLine {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** the PostgreSQL database it runs on; '' on PGlite */
  databaseUrl: string;
  stdout: () => string;
  stderr: () => string;
  logs: () => LogLine[];
  /** resolves with the exit code once the process has exited and its pipes are drained */
  exited: Promise<number | null>;
  /** waits until a log line from the `from`-th on matches (checked every 50 ms), or throws after timeoutMs */
  waitForLog: (match: (l: LogLine) => boolean, opts?: { from?: number; timeoutMs?: number }) => Promise<LogLine>;
  /** kills the process if it still runs, and drops the PostgreSQL database made for it */
  dispose: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `node --import tsx src/main.ts` on PGlite in memory, or on a fresh PostgreSQL database with TEST_DATABASE_URL; resolves once it logged `ready`. */
export async function startServerProcess(env: Record<string, string>, opts: { databaseUrl?: string } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let drop: (() => Promise<void>) | undefined;
  let databaseUrl = opts.databaseUrl ?? '';
  if (!databaseUrl && TEST_DATABASE_URL) {
    const fresh = await freshDatabase();
    await fresh.db.destroy();
    drop = fresh.drop;
    databaseUrl = fresh.url!;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), ISSUER: base, DATA_DIR: 'memory://', DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => setTimeout(() => resolve(code), 50)));
  const logs = () =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const waitForLog = async (match: (l: LogLine) => boolean, { from = 0, timeoutMs = 20_000 } = {}) => {
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(50)) {
      const found = logs().slice(from).find(match);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${stderr}`);
    }
    throw new Error(`no such log line within ${timeoutMs} ms; stderr: ${stderr}`);
  };
  const server: ServerProcess = {
    child,
    base,
    databaseUrl,
    stdout: () => stdout,
    stderr: () => stderr,
    logs,
    exited,
    waitForLog,
    dispose: async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      await drop?.();
    },
  };
  try {
    await waitForLog((l) => l.msg === 'ready', { timeoutMs: 60_000 });
  } catch (e) {
    await server.dispose();
    throw e;
  }
  return server;
}
