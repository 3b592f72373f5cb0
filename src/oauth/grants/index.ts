// The grant registry: /token looks the handler up by grant_type. Adding a grant is adding a
// module and one line here.
import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { deviceCode } from './device-code.js';
import { password } from './password.js';
import { refreshToken } from './refresh-token.js';
import { tokenExchange } from './token-exchange.js';
import type { GrantHandler } from './types.js';

const handlers: GrantHandler[] = [clientCredentials, authorizationCode, refreshToken, password, deviceCode, tokenExchange];

export const grantHandlers: ReadonlyMap<string, GrantHandler> = new Map(handlers.map((h) => [h.grant_type, h]));
