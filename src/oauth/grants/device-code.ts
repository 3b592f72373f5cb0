// Device access token request (RFC 8628 §3.4, §3.5): the device polls /token with its
// device_code until the person at /device approves or denies, or the code expires.
import type { AppContext } from '../../context.js';
import type { Client } from '../../repositories/clients.js';
import type { DeviceCodeRow } from '../../db/schema.js';
import { DEVICE_CODE_GRANT_TYPE } from '../device/device-authorization.js';
import { OAuthError } from '../errors.js';
import { formatScope, parseScope } from '../scopes.js';
import { resolveAudience } from '../tokens.js';
import { issueUserTokens, mayRefresh, openGrant } from '../user-tokens.js';
import type { GrantHandler, TokenResponse } from './types.js';

/**
 * Polls are timed by the database clock on arrival; network jitter can make two polls that the
 * device sent `interval` seconds apart arrive slightly closer. This much is forgiven.
 */
const POLL_JITTER_MS = 500;

export const deviceCode: GrantHandler = {
  grant_type: DEVICE_CODE_GRANT_TYPE,
  async handle({ ctx, client, params, resources, dpop }) {
    const code = params.device_code;
    // §3.4: device_code is required
    if (!code) throw new OAuthError('invalid_request', 'device_code is missing');
    // RFC 8707: refuse a bad resource before the poll can spend an approved code
    resolveAudience(client, resources);

    // One atomic step records the poll and, when approved, spends the code: of concurrent polls
    // exactly one sees consumed_now (ARCHITECTURE.md "One-time things are spent atomically").
    const polled = await ctx.repos.deviceCodes.poll(code, client.client_id);
    // §3.5 / RFC 6749 §5.2: unknown, or issued to another client
    if (!polled) throw new OAuthError('invalid_grant', 'device_code is unknown or was not issued to this client');
    const { row, previous_poll, consumed_now } = polled;

    if (consumed_now) return issueTokens(ctx, client, row, resources, dpop?.jkt);
    // tokens are issued once; a later poll with the same device_code is refused
    if (row.consumed_at) throw new OAuthError('invalid_grant', 'device_code was already used');
    // §3.5 expired_token; an approved code that was not spent just now has expired too
    if (row.status === 'approved' || row.expires_at.getTime() <= (row.last_polled_at ?? new Date()).getTime())
      throw new OAuthError('expired_token', 'the device_code has expired; start a new device authorization');
    // §3.5 access_denied: the person declined
    if (row.status === 'denied') throw new OAuthError('access_denied', 'the user denied the authorization request');

    // §3.5 slow_down: polled faster than the interval; the interval grows by 5 seconds for this
    // and every later request
    if (previous_poll && row.last_polled_at && row.last_polled_at.getTime() - previous_poll.getTime() < row.interval * 1000 - POLL_JITTER_MS) {
      const interval = await ctx.repos.deviceCodes.slowDown(code);
      throw new OAuthError('slow_down', `polling too fast; wait at least ${interval} seconds between requests`);
    }
    // §3.5 authorization_pending: the person has not decided yet
    throw new OAuthError('authorization_pending', 'the user has not completed the authorization yet');
  },
};

/**
 * §3.5: the approved request becomes a grant (one authorization, as in the code flow) with an
 * access token, an ID token when openid was granted (OIDC Core §3.1.3.3) and a refresh token
 * when offline_access was granted and the client may refresh (OIDC Core §11, issue 4).
 */
async function issueTokens(ctx: AppContext, client: Client, row: DeviceCodeRow, resources: string[], jkt: string | undefined): Promise<TokenResponse> {
  const sub = row.sub!;
  const auth_time = row.auth_time ?? row.created_at;
  const scopes = parseScope(row.granted_scope ?? row.scope);
  const scope = formatScope(scopes);
  const refresh = scopes.includes('offline_access') && mayRefresh(client);
  // one grant per authorization, so revoking it ends every token it issued
  const grant_id = await openGrant(ctx, { client, sub, scope, auth_time, refreshable: refresh });
  const response = await issueUserTokens(ctx, { client, grant_id, sub, scope: scopes, resources, auth_time, refresh_scope: refresh ? scopes : undefined, jkt });
  await ctx.repos.audit.record({ event: 'device_code.redeemed', client_id: client.client_id, sub, detail: { grant_id, scope } });
  return response;
}
