// Housekeeping removes what has expired and nothing that is still alive.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { GrantsRepository } from '../../src/repositories/grants.js';
import { TokensRepository } from '../../src/repositories/tokens.js';
import { freshDatabase } from '../support/harness.js';

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, drop } = await freshDatabase());
});
afterAll(async () => drop?.());

it('purgeExpired deletes expired grants, refresh tokens and revocations, and keeps live ones', async () => {
  const grants = new GrantsRepository(db);
  const tokens = new TokensRepository(db);
  const past = new Date(Date.now() - 60_000);
  const future = new Date(Date.now() + 3_600_000);
  await grants.createGrant({ grant_id: 'old', client_id: 'web', sub: 'a', scope: 'openid', auth_time: past, expires_at: past });
  await grants.createGrant({ grant_id: 'live', client_id: 'web', sub: 'a', scope: 'openid', auth_time: past, expires_at: future });
  await grants.saveRefreshToken({ token: 'old-rt', grant_id: 'old', client_id: 'web', scope: 'openid', expires_at: past });
  await grants.saveRefreshToken({ token: 'live-rt', grant_id: 'live', client_id: 'web', scope: 'openid', expires_at: future });
  await tokens.revokeJti('old-jti', past);
  await tokens.revokeJti('live-jti', future);

  await tokens.purgeExpired();

  expect(await grants.findGrant('old')).toBeUndefined();
  expect(await grants.isGrantActive('live')).toBe(true);
  expect(await grants.findRefreshToken('old-rt')).toBeUndefined();
  expect(await grants.findRefreshToken('live-rt')).toBeDefined();
  expect(await tokens.isJtiRevoked('old-jti')).toBe(false);
  expect(await tokens.isJtiRevoked('live-jti')).toBe(true);
});
