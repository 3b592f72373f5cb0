// One-time values are spent atomically: a code once, a refresh token once (then reuse is detected).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/crypto/hash.js';
import { randomToken } from '../../src/crypto/random.js';
import type { Db } from '../../src/db/index.js';
import { GrantsRepository } from '../../src/repositories/grants.js';
import { freshDatabase } from '../support/harness.js';

let db: Db;
let drop: () => Promise<void>;
let grants: GrantsRepository;
beforeAll(async () => {
  ({ db, drop } = await freshDatabase());
  grants = new GrantsRepository(db);
});
afterAll(async () => drop?.());

const inAMinute = () => new Date(Date.now() + 60_000);

async function newGrant(): Promise<string> {
  const grant_id = randomToken(16);
  await grants.createGrant({ grant_id, client_id: 'web', sub: 'alice', scope: 'openid', auth_time: new Date(), expires_at: new Date(Date.now() + 3_600_000) });
  return grant_id;
}

async function newCode(grant_id: string, expires_at = inAMinute()): Promise<string> {
  const code = randomToken();
  await grants.saveCode({
    code, grant_id, client_id: 'web', sub: 'alice', redirect_uri: 'https://app.example.com/cb', scope: 'openid', nonce: null,
    code_challenge: null, code_challenge_method: null, auth_time: new Date(), session_id_hash: null, claims: null, include_auth_time: false, expires_at,
  });
  return code;
}

describe('authorization codes', () => {
  it('are stored as their hash', async () => {
    const code = await newCode(await newGrant());
    const rows = await db.selectFrom('authorization_codes').select('code_hash').execute();
    expect(rows.map((r) => r.code_hash)).toContain(sha256(code));
    expect(JSON.stringify(rows)).not.toContain(code);
  });

  it('are spent once: then replayed, and an unknown code is unknown', async () => {
    const grant_id = await newGrant();
    const code = await newCode(grant_id);
    const first = await grants.consumeCode(code);
    expect(first.outcome).toBe('ok');
    expect(first.outcome !== 'unknown' && first.row.grant_id).toBe(grant_id);
    const second = await grants.consumeCode(code);
    expect(second.outcome).toBe('replayed');
    expect(second.outcome !== 'unknown' && second.row.grant_id).toBe(grant_id);
    expect((await grants.consumeCode(randomToken())).outcome).toBe('unknown');
  });

  it('are not spent by another client', async () => {
    const code = await newCode(await newGrant());
    expect((await grants.consumeCode(code, 'other')).outcome).toBe('other_client');
    expect((await grants.consumeCode(code, 'web')).outcome).toBe('ok');
  });

  it('of ten concurrent redemptions exactly one wins', async () => {
    const code = await newCode(await newGrant());
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => grants.consumeCode(code)));
    expect(outcomes.filter((o) => o.outcome === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'replayed')).toHaveLength(9);
  });
});

describe('refresh tokens', () => {
  it('rotate: the first use returns the grant, a second use is reuse and names the grant', async () => {
    const grant_id = await newGrant();
    const token = randomToken();
    await grants.saveRefreshToken({ token, grant_id, client_id: 'web', scope: 'openid offline_access', expires_at: inAMinute() });
    const first = await grants.redeemRefreshToken(token);
    expect(first).toMatchObject({ outcome: 'ok', scope: 'openid offline_access', client_id: 'web', grant: { grant_id, sub: 'alice' } });
    expect(await grants.redeemRefreshToken(token)).toEqual({ outcome: 'reused', grant_id, client_id: 'web' });
    expect(await grants.redeemRefreshToken(randomToken())).toEqual({ outcome: 'unknown' });
  });

  it('are unknown once expired', async () => {
    const token = randomToken();
    await grants.saveRefreshToken({ token, grant_id: await newGrant(), client_id: 'web', scope: 'openid', expires_at: new Date(Date.now() - 1000) });
    expect(await grants.redeemRefreshToken(token)).toEqual({ outcome: 'unknown' });
  });

  it('of concurrent rotations exactly one wins', async () => {
    const token = randomToken();
    await grants.saveRefreshToken({ token, grant_id: await newGrant(), client_id: 'web', scope: 'openid', expires_at: inAMinute() });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => grants.redeemRefreshToken(token)));
    expect(outcomes.filter((o) => o.outcome === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'reused')).toHaveLength(4);
  });

  it('are stored as their hash and found without being spent', async () => {
    const grant_id = await newGrant();
    const token = randomToken();
    await grants.saveRefreshToken({ token, grant_id, client_id: 'web', scope: 'openid', expires_at: inAMinute() });
    expect(JSON.stringify(await db.selectFrom('refresh_tokens').selectAll().execute())).not.toContain(token);
    expect(await grants.findRefreshToken(token)).toMatchObject({ grant_id, sub: 'alice', rotated_at: null, revoked_at: null });
    expect((await grants.redeemRefreshToken(token)).outcome).toBe('ok');
  });
});

describe('grants', () => {
  it('are active until revoked or expired', async () => {
    const grant_id = await newGrant();
    expect(await grants.isGrantActive(grant_id)).toBe(true);
    await grants.revokeGrant(grant_id);
    expect(await grants.isGrantActive(grant_id)).toBe(false);
    expect((await grants.findGrant(grant_id))!.revoked_at).not.toBeNull();

    const expired = randomToken(16);
    await grants.createGrant({ grant_id: expired, client_id: 'web', sub: null, scope: 'x', auth_time: null, expires_at: new Date(Date.now() - 1000) });
    expect(await grants.isGrantActive(expired)).toBe(false);
    expect(await grants.isGrantActive('no-such-grant')).toBe(false);
  });
});
