// User interaction of the device flow (RFC 8628 §3.3): the person enters the user_code, signs
// in, and approves or denies the request of the client shown.
import type { AppContext } from '../../context.js';
import type { DeviceCodeRow } from '../../db/schema.js';
import type { Client } from '../../repositories/clients.js';
import type { Translator } from '../../i18n/catalogues.js';
import { describeScope, parseScope } from '../scopes.js';
import { formatUserCode, isWellFormedUserCode, normaliseUserCode } from './user-code.js';

export interface PendingDeviceRequest {
  /** the user_code in normal form (what is stored and compared) */
  user_code: string;
  /** the same, shown as XXXX-XXXX */
  display_code: string;
  row: DeviceCodeRow;
  client: Client;
}

/**
 * The pending, unexpired request a typed user_code names, or undefined. Wrong, expired, already
 * decided and malformed codes all give undefined: the page says the same for each (§5.1 asks
 * not to help a guesser tell them apart).
 */
export async function findPendingRequest(ctx: AppContext, typed: string): Promise<PendingDeviceRequest | undefined> {
  const user_code = normaliseUserCode(typed);
  if (!isWellFormedUserCode(user_code)) return undefined;
  const row = await ctx.repos.deviceCodes.findPendingByUserCode(user_code);
  if (!row) return undefined;
  // a client disabled since the request started gets nothing
  const client = await ctx.clients.get(row.client_id);
  if (!client) return undefined;
  return { user_code, display_code: formatUserCode(user_code), row, client };
}

/** The requested scopes in words, for the consent page. */
export function describeRequestedScopes(request: PendingDeviceRequest, t: Translator['t']): { name: string; description: string }[] {
  return parseScope(request.row.scope).map((name) => ({ name, description: describeScope(name, t) }));
}

/**
 * Records the person's decision (§3.3). Only a pending, unexpired request can be decided, and only
 * once; false when it was decided or expired meanwhile. Approval grants every requested scope,
 * for the signed-in user at the time they authenticated (auth_time of the session).
 */
export async function decideDeviceRequest(
  ctx: AppContext,
  request: PendingDeviceRequest,
  decision: { approved: true; sub: string; auth_time: Date } | { approved: false; sub: string },
  ip: string,
): Promise<boolean> {
  const decided = decision.approved
    ? await ctx.repos.deviceCodes.decide(request.user_code, { approved: true, sub: decision.sub, auth_time: decision.auth_time, granted_scope: request.row.scope })
    : await ctx.repos.deviceCodes.decide(request.user_code, { approved: false });
  if (!decided) return false;
  if (decision.approved) await ctx.repos.consents.grant(decision.sub, request.client.client_id, parseScope(request.row.scope));
  await ctx.repos.audit.record({
    event: decision.approved ? 'device_code.approved' : 'device_code.denied',
    client_id: request.client.client_id,
    sub: decision.sub,
    ip,
    detail: { scope: request.row.scope },
  });
  return true;
}
