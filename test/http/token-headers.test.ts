// /token answers carry the headers a JSON token response needs (RFC 6749 §5.1: no-store, no-cache),
// plus nosniff, on success and on refusal.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { basic, SECRETS, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

it.each([
  ['success', SECRETS.service, 200],
  ['refusal', 'wrong-secret-wrong-secret-wrong-secret-00', 401],
])('token endpoint %s: no-store, no-cache, nosniff', async (_label, secret, status) => {
  const r = await s.app.inject({
    method: 'POST',
    url: '/token',
    headers: { authorization: basic('service', secret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials',
  });
  expect(r.statusCode).toBe(status);
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.headers['pragma']).toBe('no-cache');
  expect(r.headers['x-content-type-options']).toBe('nosniff');
});
