// Refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2), and
// refreshed ID tokens (OIDC Core §12.2).
import { OAuthError } from '../errors.js';
import { isSubset, parseScope } from '../scopes.js';
import { issueUserTokens, storedClaimsRequest } from '../user-tokens.js';
import type { GrantHandler } from './types.js';

export const refreshToken: GrantHandler = {
  grant_type: 'refresh_token',
  async handle({ ctx, client, params, resources, request }) {
    const presented = params.refresh_token;
    if (!presented) throw new OAuthError('invalid_request', 'refresh_token is missing');

    // Checked before the token is spent, so that a refused request leaves it usable.
    const found = await ctx.repos.grants.findRefreshToken(presented);
    if (!found) throw new OAuthError('invalid_grant', 'refresh token is invalid');
    // RFC 6749 §6: the refresh token must have been issued to the authenticated client
    if (found.client_id !== client.client_id) throw new OAuthError('invalid_grant', 'refresh token was issued to another client');

    const granted = parseScope(found.scope);
    const requested = parseScope(params.scope);
    // RFC 6749 §6: the scope may narrow but must not include anything not originally granted
    if (!isSubset(requested, granted)) {
      const extra = requested.find((s) => !granted.includes(s));
      throw new OAuthError('invalid_scope', `scope ${extra} was not granted to this refresh token`);
    }

    const redeemed = await ctx.repos.grants.redeemRefreshToken(presented);
    if (redeemed.outcome === 'reused') {
      // RFC 9700 §4.14.2: a rotated token used again was stolen or replayed: end the whole family
      await ctx.repos.grants.revokeGrant(redeemed.grant_id);
      request.server.metrics?.refreshTokenReused();
      await ctx.repos.audit.record({
        event: 'refresh_token_reused',
        client_id: client.client_id,
        sub: found.sub ?? undefined,
        ip: request.ip,
        detail: { grant_id: redeemed.grant_id },
      });
      throw new OAuthError('invalid_grant', 'refresh token was already used; the grant is revoked');
    }
    if (redeemed.outcome === 'unknown') throw new OAuthError('invalid_grant', 'refresh token has expired');

    const grant = redeemed.grant;
    if (grant.revoked_at || grant.expires_at.getTime() <= Date.now()) throw new OAuthError('invalid_grant', 'the authorization was revoked or has expired');
    if (!grant.sub || !grant.auth_time) throw new OAuthError('invalid_grant', 'refresh token does not belong to a user authorization');

    return issueUserTokens(ctx, {
      client,
      grant_id: grant.grant_id,
      sub: grant.sub,
      scope: requested.length ? requested : granted,
      resources,
      // OIDC Core §12.2: same sub and auth_time as the original ID token, no nonce
      auth_time: grant.auth_time,
      claims: storedClaimsRequest(grant.claims),
      // RFC 6749 §6: the new refresh token has the scope of the one it replaces
      refresh_scope: granted,
      session_id_hash: grant.session_id_hash,
    });
  },
};
