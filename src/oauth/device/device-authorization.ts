// Device authorization request and response (RFC 8628 §3.1, §3.2).
import type { AppContext } from '../../context.js';
import { randomToken } from '../../crypto/random.js';
import type { Client } from '../../repositories/clients.js';
import { OAuthError } from '../errors.js';
import { allowedScopes, formatScope, parseScope } from '../scopes.js';
import { formatUserCode, generateUserCode } from './user-code.js';

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** §3.2: the minimum seconds between polls; 5 is the default the RFC names. */
export const DEVICE_POLL_INTERVAL = 5;

/** The path of the page where a person enters a user_code (INTERFACE.md "HTTP endpoints"). */
export const VERIFICATION_PATH = '/device';

/** §3.2 response body. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/**
 * The scope of a device authorization request (§3.1 refers to RFC 6749 §3.3). As at /authorize,
 * requested values the client did not register are dropped (§3.3 lets the server grant less than
 * asked; the token response names what was granted). Nothing requested means the registered
 * scope. A request of which nothing is left is refused with invalid_scope.
 */
export function deviceRequestScope(client: Client, scopeParam: string | undefined): string {
  const requested = parseScope(scopeParam);
  if (requested.length === 0) return formatScope(parseScope(client.scope));
  const allowed = allowedScopes(requested, client.scope);
  if (allowed.length === 0) throw new OAuthError('invalid_scope', `none of the requested scopes (${formatScope(requested)}) is registered for this client`);
  return formatScope(allowed);
}

/** A new pending request: a fresh device_code and a user_code not in use by another request. */
export async function startDeviceAuthorization(ctx: AppContext, client: Client, scope: string): Promise<DeviceAuthorizationResponse> {
  // §3.2: the device_code is a bearer secret for polling: 256 random bits, stored as SHA-256
  const device_code = randomToken(32);
  const expiresIn = ctx.env.DEVICE_CODE_TTL;
  const expires_at = new Date(Date.now() + expiresIn * 1000);
  // user_codes are unique among stored requests (a unique index); on the rare collision, draw again
  for (let attempt = 0; attempt < 5; attempt++) {
    const userCode = generateUserCode();
    const created = await ctx.repos.deviceCodes.create({ device_code, user_code: userCode, client_id: client.client_id, scope, interval: DEVICE_POLL_INTERVAL, expires_at });
    if (!created) continue;
    const shown = formatUserCode(userCode);
    const verification_uri = `${ctx.env.ISSUER}${VERIFICATION_PATH}`;
    return {
      device_code,
      user_code: shown,
      verification_uri,
      // §3.3.1: the same page with the user_code filled in (for a QR code or a link)
      verification_uri_complete: `${verification_uri}?user_code=${encodeURIComponent(shown)}`,
      expires_in: expiresIn,
      interval: DEVICE_POLL_INTERVAL,
    };
  }
  throw new OAuthError('temporarily_unavailable', 'could not allocate a user_code; try again', { status: 503 });
}
