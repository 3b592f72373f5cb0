// What every endpoint shares: health checks, 404 JSON, no stack trace in a 500, redacted logs.
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadEnv } from '../../src/config/env.js';
import { createContext } from '../../src/context.js';
import { loggerOptions, redactUrl, RequestLog, requestLoggerFactory } from '../../src/logger.js';
import { freshDatabase, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

describe('health', () => {
  it('/healthz says the process is up', async () => {
    const r = await s.app.inject('/healthz');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks the database', async () => {
    const r = await s.app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ready' });
  });

  it('/readyz is 503 when the database is gone, while /healthz stays 200', async () => {
    const fresh = await freshDatabase();
    const ctx = await createContext(loadEnv({ SECRET_KEY: 's'.repeat(40), LOG_LEVEL: 'silent' }), fresh.db);
    const app = await buildApp(ctx, { logger: false });
    await app.ready();
    await fresh.drop();
    const r = await app.inject('/readyz');
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({ status: 'unavailable', error_description: 'database not reachable' });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    await app.close();
  });
});

describe('errors', () => {
  it('an unknown route is a 404 in JSON, without echoing the query', async () => {
    const r = await s.app.inject('/no/such/thing?code=secret-code');
    expect(r.statusCode).toBe(404);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json()).toEqual({ error: 'not_found', error_description: 'no route for GET /no/such/thing' });
  });

  it('an unexpected failure is a 500 without a stack trace or the internal message', async () => {
    const ctx = s.ctx;
    const app = await buildApp(ctx, { logger: false });
    app.get('/boom', async () => {
      throw new Error('connection to 10.0.0.5 refused at /srv/app/src/db.ts:42');
    });
    await app.ready();
    const r = await app.inject('/boom');
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: 'server_error', error_description: 'the server could not complete the request' });
    expect(r.body).not.toContain('10.0.0.5');
    expect(r.body).not.toMatch(/at .*\.ts:\d+/);
    expect(r.headers['cache-control']).toBe('no-store');
    await app.close();
  });

  it('a malformed body is a 400 in the OAuth error shape, not a 500', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
    expect(r.body).not.toMatch(/\n\s+at /);
  });
});

describe('logs', () => {
  it('redactUrl hides secret query values and keeps the rest', () => {
    expect(redactUrl('/authorize?client_id=web&state=abc&nonce=n&code_challenge=x')).toBe(
      '/authorize?client_id=web&state=%5Bredacted%5D&nonce=%5Bredacted%5D&code_challenge=x',
    );
    expect(redactUrl('/cb?code=c&id_token=t&access_token=a&refresh_token=r')).toBe(
      '/cb?code=%5Bredacted%5D&id_token=%5Bredacted%5D&access_token=%5Bredacted%5D&refresh_token=%5Bredacted%5D',
    );
    // percent-encoded names are still recognised
    expect(redactUrl('/x?co%64e=abc')).toBe('/x?code=%5Bredacted%5D');
    expect(redactUrl('/healthz')).toBe('/healthz');
  });

  it('request logs carry the request id and no authorization header, cookie or query secret', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const app = Fastify({ logger: { ...(loggerOptions({ LOG_LEVEL: 'info' }) as object), stream }, logController: new RequestLog(), childLoggerFactory: requestLoggerFactory, genReqId: () => 'req-1' });
    app.post('/x', async (request, reply) => {
      // a route that logs the whole request and answer: still only the allowed fields
      request.log.info({ req: request, res: reply }, 'handler saw the request');
      reply.header('set-cookie', 'sid=SET-COOKIE-SECRET');
      return 'ok';
    });
    await app.inject({
      method: 'POST',
      url: '/x?code=QUERY-SECRET&client_id=web',
      headers: { authorization: 'Bearer HEADER-SECRET', cookie: 'sid=COOKIE-SECRET', 'content-type': 'application/json' },
      payload: { password: 'BODY-SECRET' },
    });
    await app.close();
    const all = lines.join('\n');
    expect(all).not.toContain('BODY-SECRET');
    expect(all).not.toContain('SET-COOKIE-SECRET');
    expect(all).not.toContain('QUERY-SECRET');
    expect(all).not.toContain('HEADER-SECRET');
    expect(all).not.toContain('COOKIE-SECRET');
    const logged = lines.map((l) => JSON.parse(l));
    // one line per request, with what the request was and how it ended
    expect(logged.filter((l) => l.reqId === 'req-1' && l.msg !== 'handler saw the request')).toEqual([
      expect.objectContaining({ msg: 'request completed', req: { method: 'POST', url: '/x?code=%5Bredacted%5D&client_id=web', ip: '127.0.0.1' }, res: { statusCode: 200 } }),
    ]);
    expect(logged.at(-1).responseTime).toEqual(expect.any(Number));
    // the route's own line carries the request id too
    expect(logged.find((l) => l.msg === 'handler saw the request')).toMatchObject({ reqId: 'req-1', req: { method: 'POST' } });
  });

  it('makes a request its child logger only when the request logs a line of its own', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    let id = 0;
    const app = Fastify({ logger: { ...(loggerOptions({ LOG_LEVEL: 'info' }) as object), stream }, logController: new RequestLog(), childLoggerFactory: requestLoggerFactory, genReqId: () => `req-${++id}` });
    app.get('/quiet', async () => 'ok');
    app.get('/chatty', async (request) => {
      request.log.warn({ detail: 1 }, 'something to say');
      return 'ok';
    });
    await app.ready();
    const child = vi.spyOn(app.log, 'child');
    await app.inject('/quiet');
    expect(child).not.toHaveBeenCalled();
    await app.inject('/chatty');
    expect(child).toHaveBeenCalledTimes(1);
    await app.close();
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ['req-1', 'request completed'],
      ['req-2', 'something to say'],
      ['req-2', 'request completed'],
    ]);
    expect(lines[1]).toMatchObject({ level: 40, detail: 1 });
  });
});
