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
  it('counts failures, locks, and clears', async () => {
    const attempts = new LoginAttemptsRepository(db);
    expect(await attempts.get('user:alice')).toBeUndefined();
    expect(await attempts.fail('user:alice')).toBe(1);
    expect(await attempts.fail('user:alice')).toBe(2);
    expect(await attempts.fail('user:alice')).toBe(3);
    expect(await attempts.fail('ip:203.0.113.5')).toBe(1);
    const until = new Date(Date.now() + 60_000);
    await attempts.lock('user:alice', until);
    const state = (await attempts.get('user:alice'))!;
    expect(state.failures).toBe(3);
    expect(new Date(state.locked_until!).getTime()).toBe(until.getTime());
    await attempts.clear('user:alice');
    expect(await attempts.get('user:alice')).toBeUndefined();
    expect((await attempts.get('ip:203.0.113.5'))!.failures).toBe(1);
  });

  it('starts counting again after the 15-minute window', async () => {
    const attempts = new LoginAttemptsRepository(db);
    await attempts.fail('user:old');
    await attempts.fail('user:old');
    await db.updateTable('login_attempts').set({ window_started_at: sql`now() - interval '16 minutes'` }).where('key', '=', 'user:old').execute();
    expect(await attempts.get('user:old')).toBeUndefined();
    expect(await attempts.fail('user:old')).toBe(1);
    expect(await attempts.fail('user:old')).toBe(2);
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
