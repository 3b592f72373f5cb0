// Resource owner password credentials grant (RFC 6749 §4.3). Discouraged (RFC 9700 §2.4: it
// hands the user's password to the client and cannot do multi-factor or phishing-resistant
// sign-in); offered only to clients that register `password` (/token checks that).
// The password is checked exactly as on the login page (checkCredentials): the same argon2id
// verify, the same lockout, and the same cost for unknown usernames.
import { checkCredentials } from '../../authentication/credentials.js';
import { OAuthError } from '../errors.js';
import { formatScope, parseScope } from '../scopes.js';
import { resolveAudience } from '../tokens.js';
import { issueUserTokens, mayRefresh, openGrant } from '../user-tokens.js';
import type { GrantHandler } from './types.js';

/** One answer for every bad username/password pair: it never says which part was wrong. */
export const INVALID_CREDENTIALS = 'the resource owner credentials are invalid';
/**
 * A locked key. Unknown usernames lock exactly like real ones (credentials.ts), so saying so
 * reveals nothing about whether the account exists.
 */
export const LOCKED = 'too many failed attempts; try again later';

export const password: GrantHandler = {
  grant_type: 'password',
  async handle({ ctx, client, params, resources, request, dpop }) {
    // §4.3.2: username and password are REQUIRED
    if (params.username === undefined) throw new OAuthError('invalid_request', 'username is missing');
    if (params.password === undefined) throw new OAuthError('invalid_request', 'password is missing');

    // §3.3: scope is the requested subset of the registered scope (none requested: all of it);
    // a value the client did not register is invalid_scope (§5.2)
    const registered = parseScope(client.scope);
    const requested = parseScope(params.scope);
    const outside = requested.find((s) => !registered.includes(s));
    if (outside) throw new OAuthError('invalid_scope', `scope ${outside} is not registered for this client`);
    const scopes = requested.length ? requested : registered;
    const scope = formatScope(scopes);
    // RFC 8707 §2: checked before the password so a bad request costs no argon2 verify
    resolveAudience(client, resources);

    // §4.3.2: validate the resource owner credentials; §5.2: invalid_grant when they are wrong
    const result = await checkCredentials(ctx, params.username, params.password, request.ip);
    request.server.metrics?.credentialsChecked('password_grant', result);
    if (!result.ok) throw new OAuthError('invalid_grant', result.reason === 'locked' ? LOCKED : INVALID_CREDENTIALS);
    const user = result.user;

    // §4.3.3: a refresh token when the client may have one (the same rule as every user grant)
    const refresh = mayRefresh(client);
    const now = new Date();
    // One grant per authorization, so revoking it (RFC 7009) ends every token it issued.
    const grant_id = await openGrant(ctx, { client, sub: user.sub, scope, auth_time: now, refreshable: refresh });
    // An RFC 9068 access token tied to the grant; an ID token with auth_time (the moment the
    // password was checked) when openid was granted (OIDC Core §3.1.3.3).
    const response = await issueUserTokens(ctx, {
      client,
      grant_id,
      sub: user.sub,
      scope: scopes,
      resources,
      auth_time: now,
      refresh_scope: refresh ? scopes : undefined,
      jkt: dpop?.jkt,
    });
    await ctx.repos.audit.record({ event: 'password_grant', client_id: client.client_id, sub: user.sub, ip: request.ip });
    return response;
  },
};
