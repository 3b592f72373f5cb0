// Issue 8 point 7: SIGTERM under load. With 50 connections sending token requests, SIGTERM lets
// every request in flight finish, refuses new connections, answers what arrives on an open
// connection with 503 and `Connection: close`, and the process exits 0 within the grace period
// (SHUTDOWN_GRACE_SECONDS). A keep-alive connection whose request was in flight goes idle once
// answered and must not hold the exit until its keep-alive timeout. The real entry point runs in a
// child process, on PGlite or, with TEST_DATABASE_URL, on PostgreSQL.
import http from 'node:http';
import autocannon from 'autocannon';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { configRefusal } from '../config/refusal.js';
import { sleep, startServerProcess, type ServerProcess } from './server-process.js';

const BODY = 'grant_type=client_credentials';
// the demo backend service of config/clients.json
const AUTHORIZATION = `Basic ${Buffer.from('service:demo-service-secret-0123456789abcdefghij').toString('base64')}`;

/**
 * A token request whose body is sent in two parts: it is in flight from its headers until
 * finish(). It goes on a keep-alive connection that the server has already accepted and served
 * (a /healthz first), so that a busy machine cannot leave it waiting in the listen backlog.
 */
async function slowRequest(base: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await new Promise<void>((resolve, reject) => http.get(`${base}/healthz`, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
  let finish!: () => void;
  const response = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const req = http.request(
      `${base}/token`,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(BODY.length), authorization: AUTHORIZATION } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.write(BODY.slice(0, 10));
    finish = () => req.end(BODY.slice(10));
  });
  return { response, finish: () => finish(), agent };
}

/** A request on a new TCP connection: its status, or the connection error code. */
function freshConnection(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

function load(server: ServerProcess) {
  const errors: Record<string, number> = {};
  let responses = 0;
  let stop!: () => void;
  const result = new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${server.base}/token`,
        connections: 50,
        duration: 120, // stopped once the server has exited
        method: 'POST',
        // every load request is logged with this id, so the server's answers can be counted
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: AUTHORIZATION, 'x-request-id': 'load' },
        body: BODY,
        timeout: 30,
      },
      (err, r) => (err ? reject(err as Error) : resolve(r)),
    );
    instance.on('response', () => responses++);
    instance.on('reqError', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? e.message;
      errors[code] = (errors[code] ?? 0) + 1;
    });
    stop = () => instance.stop();
  });
  return { result, errors, responses: () => responses, stop: () => stop() };
}

describe('SIGTERM under load', () => {
  it('finishes every request in flight, refuses new connections and exits 0 within the grace period', async () => {
    // a grace period well beyond what this takes on a busy machine: exit 0 means no connection held the close
    const server = await startServerProcess({ SHUTDOWN_GRACE_SECONDS: '30' });
    try {
      const cannon = load(server);
      for (const until = Date.now() + 20_000; cannon.responses() < 200 && Date.now() < until; ) await sleep(50);
      expect(cannon.responses()).toBeGreaterThanOrEqual(200);

      const slow = await slowRequest(server.base);
      await sleep(2_000); // its headers have reached the server: the request is in flight
      const signalled = Date.now();
      server.child.kill('SIGTERM');

      // no longer listening, while the slow request still holds the process
      let fresh: number | string = 0;
      for (const until = Date.now() + 5_000; fresh !== 'ECONNREFUSED' && Date.now() < until; await sleep(100)) fresh = await freshConnection(`${server.base}/healthz`);
      expect(fresh).toBe('ECONNREFUSED');

      slow.finish();
      const answer = await slow.response;
      expect(answer).toMatchObject({ status: 200 });
      expect(JSON.parse((answer as { body: string }).body)).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });

      // its keep-alive connection is closed once idle, so the exit does not wait for it
      expect(await server.exited).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(30_000);
      expect(server.stderr()).toBe('');
      slow.agent.destroy();

      cannon.stop();
      const result = await cannon.result;
      // every answer is a token or a clean 503 refusal; no request waited until it timed out
      expect(result.timeouts).toBe(0);
      const stats: Record<string, { count?: number }> = result.statusCodeStats ?? {};
      expect(stats['200']?.count).toBeGreaterThan(0);
      for (const status of Object.keys(stats)) expect(['200', '503']).toContain(status);
      // every load request the server answered reached the client: none that it accepted was
      // reset (connection errors here are connections refused, or requests sent on a
      // connection the server had already closed, which it never read)
      const answered = server.logs().filter((l) => l.reqId === 'load' && typeof (l.res as { statusCode?: number } | undefined)?.statusCode === 'number');
      const received = Object.values(stats).reduce((n, s) => n + (s.count ?? 0), 0);
      expect(received, JSON.stringify({ errors: cannon.errors, stats })).toBe(answered.length);
      const shutdownAt = server.logs().findIndex((l) => l.msg === 'shutting down');
      expect(server.logs()[shutdownAt]).toMatchObject({ signal: 'SIGTERM', grace_seconds: 30 });
    } finally {
      await server.dispose();
    }
  }, 120_000);

  it('exits 1 at the end of SHUTDOWN_GRACE_SECONDS when a request is still open, saying so in one line', async () => {
    const server = await startServerProcess({ SHUTDOWN_GRACE_SECONDS: '1' });
    try {
      const slow = await slowRequest(server.base); // never finished
      await sleep(2_000);
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(1);
      const took = Date.now() - signalled;
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(9_000); // before the 10 s default
      expect(server.logs().filter((l) => l.level >= 50)).toEqual([
        expect.objectContaining({ msg: 'shutdown: requests still open at the end of the grace period; exiting', grace_seconds: 1 }),
      ]);
      expect(await slow.response).toMatchObject({ error: expect.any(String) });
      slow.agent.destroy();
    } finally {
      await server.dispose();
    }
  }, 60_000);

  it('SHUTDOWN_GRACE_SECONDS is a whole number of seconds', () => {
    expect(loadEnv({}).SHUTDOWN_GRACE_SECONDS).toBe(10);
    expect(configRefusal(() => loadEnv({ SHUTDOWN_GRACE_SECONDS: '0' }), 'the environment')).toBe(
      'environment: SHUTDOWN_GRACE_SECONDS: must be a whole number of seconds from 1 to 31536000',
    );
  });
});
