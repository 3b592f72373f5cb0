// The cleanup job (issue 8, point 4): one run deletes every kind of row past its life, in
// batches, keeps every live one (and the used codes and rotated refresh tokens that replay
// detection still needs), logs one line with the counts, and runs on one instance at a time.
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import type { Db } from '../../src/db/index.js';
import { CleanupJob } from '../../src/maintenance/cleanup.js';
import { CLEANUP_LOCK, CLEANUP_TABLES } from '../../src/repositories/cleanup.js';
import { freshDatabase, TEST_DATABASE_URL } from '../support/harness.js';

let db: Db;
let url: string | undefined;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, url, drop } = await freshDatabase());
});
afterAll(async () => drop?.());

const ago = (ms: number) => new Date(Date.now() - ms);
const ahead = (ms: number) => new Date(Date.now() + ms);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A job with a batch of 2 rows, so that every table with more than two dead rows takes several batches. */
function job(database = db) {
  const lines: { level: number; msg: string; deleted?: Record<string, number> }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { job: new CleanupJob(loadEnv({ CLEANUP_BATCH_SIZE: '2' }), database, log), lines };
}

async function keys(table: string, column: string): Promise<string[]> {
  const r = await sql<{ k: string }>`select ${sql.ref(column)}::text as k from ${sql.table(table)} order by 1`.execute(db);
  return r.rows.map((row) => row.k);
}

async function clear() {
  for (const t of [...CLEANUP_TABLES].reverse()) await db.deleteFrom(t).execute();
  await db.deleteFrom('users').execute();
}

/** Rows past their life (names start with "dead") and live ones of every kind. */
async function seed() {
  await db.insertInto('users').values({ sub: 'u1', username: 'alice', password_hash: 'x', claims: '{}' }).execute();
  const grant = (grant_id: string, expires_at: Date, revoked_at: Date | null = null) => ({ grant_id, client_id: 'web', sub: 'u1', scope: 'openid', expires_at, revoked_at });
  await db
    .insertInto('grants')
    .values([
      grant('live', ahead(DAY)),
      grant('live-revoked', ahead(DAY), ago(HOUR)),
      grant('dead', ago(MIN)),
      grant('expired-with-live-refresh-token', ago(MIN)),
    ])
    .execute();
  const code = (code_hash: string, grant_id: string, expires_at: Date, consumed_at: Date | null) => ({
    code_hash,
    grant_id,
    client_id: 'web',
    sub: 'u1',
    redirect_uri: 'https://app.example.com/cb',
    scope: 'openid',
    auth_time: ago(HOUR),
    expires_at,
    consumed_at,
  });
  await db
    .insertInto('authorization_codes')
    .values([
      code('live-unused', 'live', ahead(MIN), null),
      code('live-used', 'live', ahead(MIN), ago(1000)),
      // replaying it must still revoke the live grant (RFC 6749 §4.1.2)
      code('used-of-live-grant', 'live', ago(HOUR), ago(HOUR)),
      code('dead-unused', 'live', ago(MIN), null),
      code('dead-used-of-expired-grant', 'dead', ago(HOUR), ago(HOUR)),
      code('dead-used-of-revoked-grant', 'live-revoked', ago(HOUR), ago(HOUR)),
    ])
    .execute();
  const rt = (token_hash: string, grant_id: string, expires_at: Date, rotated_at: Date | null = null) => ({ token_hash, grant_id, client_id: 'web', scope: 'openid', expires_at, rotated_at });
  await db
    .insertInto('refresh_tokens')
    .values([
      rt('live', 'live', ahead(DAY)),
      rt('live-rotated', 'live', ahead(DAY), ago(MIN)),
      // reusing it must still revoke the live family (RFC 9700 §4.14.2)
      rt('rotated-expired-of-live-grant', 'live', ago(MIN), ago(HOUR)),
      rt('live-of-expired-grant', 'expired-with-live-refresh-token', ahead(HOUR)),
      rt('dead-expired', 'live', ago(MIN)),
      rt('dead-rotated-of-expired-grant', 'dead', ago(MIN), ago(HOUR)),
    ])
    .execute();
  const device = (device_code_hash: string, expires_at: Date, consumed_at: Date | null = null) => ({
    device_code_hash,
    user_code_hash: `u-${device_code_hash}`,
    client_id: 'tv',
    scope: 'openid',
    interval: 5,
    expires_at,
    consumed_at,
  });
  await db
    .insertInto('device_codes')
    .values([
      device('live', ahead(5 * MIN)),
      // a late poll still gets expired_token (RFC 8628 §3.5)
      device('expired-an-hour-ago', ago(HOUR)),
      device('dead-expired-two-days-ago', ago(2 * DAY)),
      device('dead-consumed-two-days-ago', ago(2 * DAY), ago(2 * DAY)),
    ])
    .execute();
  const session = (id_hash: string, expires_at: Date, ended_at: Date | null = null) => ({ id_hash, sub: 'u1', auth_time: ago(HOUR), expires_at, ended_at });
  await db
    .insertInto('login_sessions')
    .values([session('live', ahead(HOUR)), session('dead-expired', ago(MIN)), session('dead-ended', ahead(HOUR), ago(MIN))])
    .execute();
  await db
    .insertInto('token_revocations')
    .values([
      { jti: 'live', expires_at: ahead(HOUR) },
      // clocks of instances may lag the database's by a little
      { jti: 'expired-a-minute-ago', expires_at: ago(MIN) },
      { jti: 'dead', expires_at: ago(HOUR) },
    ])
    .execute();
  await db
    .insertInto('client_assertion_jtis')
    .values([
      { client_id: 'c', jti: 'live', expires_at: ahead(MIN) },
      { client_id: 'c', jti: 'dead', expires_at: ago(MIN) },
    ])
    .execute();
  const attempt = (key: string, last: Date, locked_until: Date | null = null) => ({ key, failures: 3, window_started_at: last, last_attempt_at: last, locked_until });
  await db
    .insertInto('login_attempts')
    .values([
      attempt('ip:live', ago(MIN)),
      attempt('pair:locked', ago(HOUR), ahead(10 * MIN)),
      attempt('account:quiet-for-ten-days', ago(10 * DAY)),
      attempt('ip:dead', ago(HOUR)),
      attempt('pair:dead-lock-over', ago(HOUR), ago(MIN)),
      attempt('account:dead-quiet-for-100-days', ago(100 * DAY)),
    ])
    .execute();
  await db
    .insertInto('login_known_addresses')
    .values([
      { sub: 'u1', ip: 'live', last_success_at: ago(10 * DAY) },
      { sub: 'u1', ip: 'dead', last_success_at: ago(100 * DAY) },
    ])
    .execute();
  const pushed = (request_uri_hash: string, expires_at: Date) => ({ request_uri_hash, client_id: 'web', params: '{}', request_object: false, expires_at });
  await db
    .insertInto('pushed_authorization_requests')
    .values([pushed('live', ahead(MIN)), pushed('dead', ago(1000))])
    .execute();
  await db
    .insertInto('audit_log')
    .values([
      { event: 'live', at: ago(300 * DAY) },
      ...Array.from({ length: 5 }, () => ({ event: 'dead', at: ago(400 * DAY) })),
    ])
    .execute();
}

it('runs at most a day apart (CLEANUP_INTERVAL)', () => {
  expect(loadEnv({}).CLEANUP_INTERVAL).toBe(3600);
  // a longer wait overflows Node's timers, which would then fire at once, over and over
  expect(() => loadEnv({ CLEANUP_INTERVAL: '2592000' })).toThrow(/CLEANUP_INTERVAL: must be a whole number of seconds from 1 to 86400/);
});

describe('one run of the cleanup job', () => {
  beforeEach(async () => {
    await clear();
    await seed();
  });

  it('deletes the rows past their life of every kind, in batches, and keeps the live ones', async () => {
    const { job: cleanup, lines } = job();
    const result = await cleanup.run();
    expect(result).toEqual({
      ran: true,
      deleted: {
        authorization_codes: 3,
        device_codes: 2,
        refresh_tokens: 2,
        grants: 1,
        login_sessions: 2,
        token_revocations: 1,
        client_assertion_jtis: 1,
        login_attempts: 3,
        login_known_addresses: 1,
        pushed_authorization_requests: 1,
        audit_log: 5,
      },
    });
    expect(await keys('authorization_codes', 'code_hash')).toEqual(['live-unused', 'live-used', 'used-of-live-grant']);
    expect(await keys('refresh_tokens', 'token_hash')).toEqual(['live', 'live-of-expired-grant', 'live-rotated', 'rotated-expired-of-live-grant']);
    expect(await keys('grants', 'grant_id')).toEqual(['expired-with-live-refresh-token', 'live', 'live-revoked']);
    expect(await keys('device_codes', 'device_code_hash')).toEqual(['expired-an-hour-ago', 'live']);
    expect(await keys('login_sessions', 'id_hash')).toEqual(['live']);
    expect(await keys('token_revocations', 'jti')).toEqual(['expired-a-minute-ago', 'live']);
    expect(await keys('client_assertion_jtis', 'jti')).toEqual(['live']);
    expect(await keys('login_attempts', 'key')).toEqual(['account:quiet-for-ten-days', 'ip:live', 'pair:locked']);
    expect(await keys('login_known_addresses', 'ip')).toEqual(['live']);
    expect(await keys('pushed_authorization_requests', 'request_uri_hash')).toEqual(['live']);
    expect(await keys('audit_log', 'event')).toEqual(['live']);

    // one info line with the counts; nothing at info when a run finds nothing
    const info = lines.filter((l) => l.level === 30);
    expect(info).toHaveLength(1);
    expect(info[0]!.deleted).toMatchObject({ authorization_codes: 3, audit_log: 5 });
    expect(await cleanup.run()).toMatchObject({ ran: true, deleted: { authorization_codes: 0, audit_log: 0 } });
    expect(lines.filter((l) => l.level === 30)).toHaveLength(1);
  });

  it('does not start a second run in one process while one is going', async () => {
    const { job: cleanup } = job();
    const [first, second] = await Promise.all([cleanup.run(), cleanup.run()]);
    expect(first).toMatchObject({ ran: true, deleted: { audit_log: 5 } });
    expect(second).toEqual({ ran: false, reason: 'busy' });
  });

  it(
    TEST_DATABASE_URL
      ? 'skips its turn while another instance holds the advisory lock (PostgreSQL)'
      : 'deletes each row once when two jobs run at once (PGlite: one connection, so the second waits for the first)',
    async () => {
      if (url) {
        // another instance's session holds the lock
        const other = new pg.Client({ connectionString: url });
        await other.connect();
        try {
          await other.query('select pg_advisory_lock($1)', [CLEANUP_LOCK]);
          const { job: cleanup, lines } = job();
          expect(await cleanup.run()).toEqual({ ran: false, reason: 'locked' });
          expect(await keys('audit_log', 'event')).toHaveLength(6);
          expect(lines.filter((l) => l.level >= 30)).toHaveLength(0);
          await other.query('select pg_advisory_unlock($1)', [CLEANUP_LOCK]);
          expect(await cleanup.run()).toMatchObject({ ran: true, deleted: { audit_log: 5 } });
        } finally {
          await other.end();
        }
      } else {
        const [a, b] = await Promise.all([job().job.run(), job().job.run()]);
        const audit = [a, b].map((r) => (r.ran ? r.deleted.audit_log : 0));
        expect(audit.reduce((x, y) => x + y, 0)).toBe(5);
      }
      expect(await keys('audit_log', 'event')).toEqual(['live']);
    },
  );
});
