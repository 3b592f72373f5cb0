// A user_code already held by another request is never handed out twice: the server draws again.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.js';
import { startDevice } from './helpers.js';

const drawn = vi.hoisted(() => ['BCDFGHJK', 'BCDFGHJK', 'BCDFGHJK', 'ZXWVTSRQ']);
vi.mock('../../src/oauth/device/user-code.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/oauth/device/user-code.js')>();
  return { ...original, generateUserCode: () => drawn.shift() ?? original.generateUserCode() };
});

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

it('draws a new user_code when the one drawn is in use', async () => {
  const first = await startDevice(s);
  expect(first.user_code).toBe('BCDF-GHJK');
  const second = await startDevice(s);
  expect(second.user_code).toBe('ZXWV-TSRQ');
  expect(drawn).toHaveLength(0);
  const rows = await s.ctx.db.selectFrom('device_codes').select('client_id').execute();
  expect(rows).toHaveLength(2);
});
