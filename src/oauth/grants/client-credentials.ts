// Client credentials grant (RFC 6749 §4.4). The hot path: client from the in-memory cache,
// secret checked by SHA-256, token signed with the in-memory key; no database round trip.
import type { Client } from '../../repositories/clients.js';
import { OAuthError } from '../errors.js';
import { formatScope, parseScope } from '../scopes.js';
import { mintAccessToken, resolveAudience } from '../tokens.js';
import type { GrantHandler } from './types.js';

// A client's registered scope, parsed once per client object (the client cache hands out new
// objects when it reloads, so a changed registry is parsed afresh).
const registeredScopes = new WeakMap<Client, { set: ReadonlySet<string>; scope: string }>();
function registeredScope(client: Client): { set: ReadonlySet<string>; scope: string } {
  let r = registeredScopes.get(client);
  if (!r) {
    const scopes = parseScope(client.scope);
    registeredScopes.set(client, (r = { set: new Set(scopes), scope: formatScope(scopes) }));
  }
  return r;
}

export const clientCredentials: GrantHandler = {
  grant_type: 'client_credentials',
  async handle({ ctx, client, params, resources, dpop }) {
    // RFC 6749 §4.4: confidential clients only (the registry refuses public ones too)
    if (client.token_endpoint_auth_method === 'none') throw new OAuthError('unauthorized_client', 'client_credentials needs a confidential client');
    const registered = registeredScope(client);
    const requested = parseScope(params.scope);
    // §3.3: none requested means the registered default; anything outside it is refused
    const outside = requested.find((s) => !registered.set.has(s));
    if (outside) throw new OAuthError('invalid_scope', `scope ${outside} is not registered for this client`);
    const scope = requested.length ? formatScope(requested) : registered.scope;
    const aud = resolveAudience(client, resources);
    const at = await mintAccessToken(ctx, { client, sub: client.client_id, scope, aud, jkt: dpop?.jkt });
    // §4.4.3: a refresh token should not be included
    return { access_token: at.access_token, token_type: at.token_type, expires_in: at.expires_in, ...(scope ? { scope } : {}) };
  },
};
