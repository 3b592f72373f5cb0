// The implicit response types of OpenID Connect (OIDC Core §3.2.2.5): `id_token`, and
// `id_token token` which adds an access token. The ID token carries nonce (§3.2.2.11) and,
// with an access token, at_hash (§3.2.2.10). The claims of the granted scopes go into the ID
// token only when no access token is issued (§5.4); otherwise the client asks userinfo.
import { sidOf } from '../../../authentication/login-session.js';
import { claimNames, userClaims } from '../../claims.js';
import { subjectFor } from '../../subject.js';
import { openGrant, requestedClaimNames } from '../../user-tokens.js';
import { mintAccessToken, mintIdToken, resolveAudience } from '../../tokens.js';
import { parseScope } from '../../scopes.js';
import { authTimeSeconds, type ResponseTypeHandler } from './types.js';

export const idToken: ResponseTypeHandler = {
  response_type: 'id_token',
  async respond(a) {
    const { ctx, request, session, user } = a;
    const id_token = await mintIdToken(ctx, {
      client: request.client,
      sub: subjectFor(ctx, request.client, session.sub),
      auth_time: authTimeSeconds(session),
      nonce: request.nonce,
      claims: userClaims(user, claimNames(request.scopes, requestedClaimNames(request.claims, 'id_token'))),
      sid: sidOf(session.id_hash),
    });
    return { id_token };
  },
};

export const idTokenToken: ResponseTypeHandler = {
  response_type: 'id_token token',
  async respond(a) {
    const { ctx, request, session, user } = a;
    const { client } = request;
    const scope = request.scopes.join(' ');
    // the access token belongs to a grant, so revoking the grant ends it (INTERFACE.md)
    const grant_id = await openGrant(ctx, { client, sub: session.sub, scope, auth_time: session.auth_time, claims: request.claims ?? null, refreshable: false, session_id_hash: session.id_hash });
    const auth_time = authTimeSeconds(session);
    // OIDC Core §8: the client's subject (pairwise or public)
    const sub = subjectFor(ctx, client, session.sub);
    const at = await mintAccessToken(ctx, { client, sub, scope, aud: resolveAudience(client, []), grant_id, auth_time });
    const id_token = await mintIdToken(ctx, {
      client,
      sub,
      sid: sidOf(session.id_hash),
      auth_time,
      nonce: request.nonce,
      access_token: at.access_token,
      claims: userClaims(user, claimNames([], requestedClaimNames(request.claims, 'id_token'))),
    });
    const requested = parseScope(request.params.scope);
    // RFC 6749 §4.2.2: scope is required in the response when it differs from the request
    const narrowed = requested.length !== request.scopes.length;
    return {
      access_token: at.access_token,
      token_type: 'Bearer',
      expires_in: String(at.expires_in),
      id_token,
      ...(narrowed ? { scope } : {}),
    };
  },
};
