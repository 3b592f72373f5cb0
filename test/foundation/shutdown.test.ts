// Graceful shutdown (issue 2 point 9): on SIGTERM the server stops taking new connections,
// finishes the requests it is serving, closes the database and exits 0. The real entry point
// runs in a child process; a password grant that the lockout slows down (src/authentication/
// credentials.ts: past 3 failures each attempt waits a second more) is the request in flight.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A request on a new TCP connection (no keep-alive pool): resolves with the status or the connection error code. */
function freshConnection(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGTERM', () => {
  it('finishes the request in flight, refuses new connections, and exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), ISSUER: base, DATA_DIR: 'memory://', DATABASE_URL: '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; !stdout.includes('"msg":"ready"'); i++) {
        if (child.exitCode !== null || i > 600) throw new Error(`did not start: ${stderr}`);
        await sleep(50);
      }

      const passwordGrant = () =>
        fetch(`${base}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'close' },
          body: new URLSearchParams({ grant_type: 'password', client_id: 'legacy-app', client_secret: 'demo-legacy-secret-0123456789abcdefghij', username: 'slow-user', password: 'wrong' }),
        });
      // five failures: the next attempt waits 2 s before it checks the password
      for (let i = 0; i < 5; i++) expect((await passwordGrant()).status).toBe(400);

      const started = Date.now();
      const inFlight = passwordGrant();
      await sleep(400);
      child.kill('SIGTERM');
      await sleep(300);
      // no longer listening while the slow request is still being served
      expect(await freshConnection(`${base}/healthz`)).toBe('ECONNREFUSED');

      const r = await inFlight;
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toBe('invalid_grant');

      expect(await exited).toBe(0);
      expect(stderr).toBe('');
      const logs = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; signal?: string; res?: { statusCode?: number } });
      const shutdownAt = logs.findIndex((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM');
      expect(shutdownAt).toBeGreaterThan(0);
      // the in-flight request was logged as completed after the shutdown began
      expect(logs.slice(shutdownAt).some((l) => l.msg === 'request completed' && l.res?.statusCode === 400)).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
