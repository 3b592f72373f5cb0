// Helpers for the device flow tests: start a request, drive the database where only time would
// (poll spacing, expiry), and speak to /token and /device_authorization like a device does.
import { sql } from 'kysely';
import type { AppContext } from '../../src/context.js';
import { sha256 } from '../../src/crypto/hash.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../src/oauth/device/device-authorization.js';
import { normaliseUserCode } from '../../src/oauth/device/user-code.js';
import { ALICE, type TestServer } from '../support/harness.js';

export { DEVICE_CODE_GRANT_TYPE };

export const form = (s: TestServer, url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(body).toString() });

export interface DeviceStart {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** POST /device_authorization as the public `tv` client (or another), expecting success. */
export async function startDevice(s: TestServer, body: Record<string, string> = {}): Promise<DeviceStart> {
  const r = await form(s, '/device_authorization', { client_id: 'tv', ...body });
  if (r.statusCode !== 200) throw new Error(`device_authorization answered ${r.statusCode}: ${r.body}`);
  return r.json() as DeviceStart;
}

/** One poll at /token (RFC 8628 §3.4). */
export const poll = (s: TestServer, device_code: string, extra: Record<string, string> = {}) =>
  form(s, '/token', { grant_type: DEVICE_CODE_GRANT_TYPE, device_code, client_id: 'tv', ...extra });

/** Test-only: pretend the last poll was `seconds` ago, so the next one is not too fast. */
export async function lastPolledAgo(ctx: AppContext, device_code: string, seconds: number): Promise<void> {
  await ctx.db
    .updateTable('device_codes')
    .set({ last_polled_at: sql`now() - make_interval(secs => ${seconds})` })
    .where('device_code_hash', '=', sha256(device_code))
    .execute();
}

/** Test-only: move the request's expiry into the past. */
export async function expire(ctx: AppContext, device_code: string): Promise<void> {
  await ctx.db
    .updateTable('device_codes')
    .set({ expires_at: sql`now() - interval '1 second'` })
    .where('device_code_hash', '=', sha256(device_code))
    .execute();
}

export async function rowOf(ctx: AppContext, device_code: string) {
  return ctx.db.selectFrom('device_codes').selectAll().where('device_code_hash', '=', sha256(device_code)).executeTakeFirstOrThrow();
}

/** Approve (or deny) straight through the repository, as the /device page does. */
export async function decide(ctx: AppContext, user_code: string, approved: boolean, sub = ALICE.sub, auth_time = new Date(Math.floor(Date.now() / 1000 - 20) * 1000)) {
  const code = normaliseUserCode(user_code);
  const row = await ctx.repos.deviceCodes.findPendingByUserCode(code);
  if (!row) throw new Error(`no pending request for ${user_code}`);
  return ctx.repos.deviceCodes.decide(code, approved ? { approved: true, sub, auth_time, granted_scope: row.scope } : { approved: false });
}
