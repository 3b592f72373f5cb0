// response_type=code (RFC 6749 §4.1.2): creates the grant, then a one-time authorization code
// that the token endpoint redeems with the same redirect_uri and the PKCE code_verifier.
import { randomToken } from '../../../crypto/random.js';
import { mayRefresh, openGrant } from '../../user-tokens.js';
import type { ResponseTypeHandler } from './types.js';

export const code: ResponseTypeHandler = {
  response_type: 'code',
  async respond({ ctx, request, session }) {
    const { client } = request;
    const now = Date.now();
    const scope = request.scopes.join(' ');
    const grant_id = await openGrant(ctx, { client, sub: session.sub, scope, auth_time: session.auth_time, claims: request.claims ?? null, refreshable: mayRefresh(client), session_id_hash: session.id_hash });
    // RFC 6749 §10.10: 256 random bits; only its SHA-256 is stored
    const value = randomToken();
    await ctx.repos.grants.saveCode({
      code: value,
      grant_id,
      client_id: client.client_id,
      sub: session.sub,
      // RFC 6749 §4.1.3: the token request must repeat it; when it was omitted here, the client's
      // only registered URI is what the response went to
      redirect_uri: request.redirect_uri,
      scope,
      nonce: request.nonce ?? null,
      code_challenge: request.code_challenge ?? null,
      code_challenge_method: request.code_challenge_method ?? null,
      auth_time: session.auth_time,
      session_id_hash: session.id_hash,
      claims: request.claims ?? null,
      // OIDC Core §3.1.2.1: when max_age was sent, the ID token must carry auth_time
      include_auth_time: request.max_age !== undefined,
      expires_at: new Date(now + ctx.env.AUTHORIZATION_CODE_TTL * 1000),
    });
    return { code: value };
  },
};
