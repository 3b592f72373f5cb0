// Small repositories: settings (generated SECRET_KEY), login attempts (lockout), audit log, keys.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { AuditRepository } from '../../src/repositories/audit.js';
import { KeysRepository } from '../../src/repositories/keys.js';
import { LoginAttemptsRepository } from '../../src/repositories/login-attempts.js';
import { SettingsRepository } from '../../src/repositories/settings.js';
import { freshDatabase } from '../support/harness.js';

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, drop } = await freshDatabase());
});
afterAll(async () => drop?.());

describe('SettingsRepository.getOrCreate', () => {
  it('keeps the first value: later calls get it back, not their own', async () => {
    const settings = new SettingsRepository(db);
    expect(await settings.get('generated_secret_key')).toBeUndefined();
    expect(await settings.getOrCreate('generated_secret_key', () => 'first')).toBe('first');
    expect(await settings.getOrCreate('generated_secret_key', () => 'second')).toBe('first');
    expect(await settings.get('generated_secret_key')).toBe('first');
  });

  it('gives concurrent callers the same value', async () => {
    const settings = new SettingsRepository(db);
    const values = await Promise.all(Array.from({ length: 5 }, (_, i) => settings.getOrCreate('race', () => `v${i}`)));
    expect(new Set(values).size).toBe(1);
  });
});

describe('LoginAttemptsRepository', () => {
  const WINDOW = 900;
  it('counts attempts on the pair and the address, failures on the username and the account, locks, and takes a success back', async () => {
    const attempts = new LoginAttemptsRepository(db);
    expect(await attempts.begin('alice', '203.0.113.5', WINDOW)).toEqual({
      pair: { failures: 0, locked_seconds: 0 },
      user: { failures: 0, locked_seconds: 0 },
      ip: { failures: 0, locked_seconds: 0 },
      account: { failures: 0, locked_seconds: 0 },
    });
    await attempts.failed('alice', '203.0.113.5', WINDOW);
    const second = await attempts.begin('ALICE', '203.0.113.5', WINDOW); // usernames compare lower-cased
    expect([second.pair.failures, second.user.failures, second.ip.failures, second.account.failures]).toEqual([1, 1, 1, 1]);
    await attempts.failed('alice', '203.0.113.5', WINDOW);
    // another address: its own pair and address, the same username and account
    const elsewhere = await attempts.begin('alice', '198.51.100.7', WINDOW);
    expect([elsewhere.pair.failures, elsewhere.user.failures, elsewhere.ip.failures, elsewhere.account.failures]).toEqual([0, 2, 0, 2]);

    await attempts.lock('alice', '203.0.113.5', 'pair', 60);
    const locked = await attempts.state('alice', '203.0.113.5', WINDOW);
    expect(locked.pair.locked_seconds).toBeGreaterThan(55);
    expect(locked.pair.locked_seconds).toBeLessThanOrEqual(60);
    expect((await attempts.state('alice', '198.51.100.7', WINDOW)).pair.locked_seconds).toBe(0);

    // the attempt from 198.51.100.7 succeeds: its pair and the account start again, its address count is taken back
    await db.insertInto('users').values({ sub: 'alice-sub', username: 'alice', password_hash: 'x', claims: '{}' }).execute();
    await attempts.succeeded('alice', '198.51.100.7', 'alice-sub');
    const after = await attempts.state('alice', '198.51.100.7', WINDOW);
    expect([after.pair.failures, after.user.failures, after.ip.failures, after.account.failures]).toEqual([0, 2, 0, 0]);
    expect(await attempts.isKnownAddress('alice', '198.51.100.7', 90)).toBe(true);
    expect(await attempts.isKnownAddress('alice', '203.0.113.5', 90)).toBe(false);
    // the other pair is still locked
    expect((await attempts.state('alice', '203.0.113.5', WINDOW)).pair.locked_seconds).toBeGreaterThan(0);
  });

  it('starts a window again after it passed; the consecutive count of the account has no window', async () => {
    const attempts = new LoginAttemptsRepository(db);
    for (let i = 0; i < 2; i++) {
      await attempts.begin('old', '192.0.2.1', WINDOW);
      await attempts.failed('old', '192.0.2.1', WINDOW);
    }
    await db.updateTable('login_attempts').set({ window_started_at: sql`now() - interval '16 minutes'` }).execute();
    const state = await attempts.state('old', '192.0.2.1', WINDOW);
    expect([state.pair.failures, state.user.failures, state.ip.failures, state.account.failures]).toEqual([0, 0, 0, 2]);
    const next = await attempts.begin('old', '192.0.2.1', WINDOW);
    expect(next.pair.failures).toBe(0);
    expect((await attempts.begin('old', '192.0.2.1', WINDOW)).pair.failures).toBe(1);
  });

  it('keeps no username in the clear', async () => {
    const attempts = new LoginAttemptsRepository(db);
    await attempts.begin('my-Password-typed-as-username', '192.0.2.9', WINDOW);
    await attempts.failed('my-Password-typed-as-username', '192.0.2.9', WINDOW);
    const keys = (await db.selectFrom('login_attempts').select('key').execute()).map((r) => r.key).join(' ');
    expect(keys.toLowerCase()).not.toContain('my-password');
  });
});

describe('AuditRepository', () => {
  it('records events newest first', async () => {
    const audit = new AuditRepository(db);
    await audit.record({ event: 'login.failed', sub: 'alice', ip: '203.0.113.5', detail: { reason: 'bad password' } });
    await audit.record({ event: 'token.replay', client_id: 'web' });
    const [last, before] = await audit.recent(2);
    expect(last).toMatchObject({ event: 'token.replay', client_id: 'web', sub: null, detail: null });
    expect(before).toMatchObject({ event: 'login.failed', sub: 'alice', ip: '203.0.113.5', detail: { reason: 'bad password' } });
  });
});

describe('KeysRepository.insertIfNoActive', () => {
  it('inserts a first key only, even when asked concurrently', async () => {
    const keys = new KeysRepository(db);
    let created = 0;
    const make = async () => ({ kid: `k${++created}`, public_jwk: { kty: 'EC' }, private_jwk_encrypted: 'sealed' });
    await Promise.all([keys.insertIfNoActive('ES256', make), keys.insertIfNoActive('ES256', make), keys.insertIfNoActive('ES256', make)]);
    expect(created).toBe(1);
    expect((await keys.published()).map((k) => k.kid)).toEqual(['k1']);
  });
});

describe('KeysRepository.rotate', () => {
  it('adds the new key, retires the previous one with a publication window, and touches no other algorithm', async () => {
    const keys = new KeysRepository(db);
    await keys.insertIfNoActive('RS256', async () => ({ kid: 'r1', public_jwk: { kty: 'RSA' }, private_jwk_encrypted: 'sealed' }));
    await keys.rotate('ES256', { kid: 'k2', public_jwk: { kty: 'EC' }, private_jwk_encrypted: 'sealed' }, { delaySeconds: 0, publishSeconds: 120 });
    const rows = await db.selectFrom('signing_keys').selectAll().execute();
    const byKid = new Map(rows.map((r) => [r.kid, r]));
    expect(byKid.get('k2')).toMatchObject({ alg: 'ES256', retired_at: null, publish_until: null });
    const k1 = byKid.get('k1')!;
    expect(k1.retired_at).not.toBeNull();
    expect((new Date(k1.publish_until!).getTime() - new Date(k1.retired_at!).getTime()) / 1000).toBeCloseTo(120, 0);
    expect(byKid.get('r1')).toMatchObject({ retired_at: null });
    expect((await keys.published()).map((k) => k.kid).sort()).toEqual(['k1', 'k2', 'r1']);
  });
});
