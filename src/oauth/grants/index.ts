// The grant registry: /token looks the handler up by grant_type. Adding a grant is adding a
// module and one line here.
import { clientCredentials } from './client-credentials.js';
import type { GrantHandler } from './types.js';

const handlers: GrantHandler[] = [clientCredentials];

export const grantHandlers: ReadonlyMap<string, GrantHandler> = new Map(handlers.map((h) => [h.grant_type, h]));
