// Authorization code grant, token request (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5, §4.6)
// and OpenID Connect (OIDC Core §3.1.3).
import { OAuthError } from '../errors.js';
import { isValidCodeVerifier, verifyCodeVerifier } from '../pkce.js';
import { parseScope } from '../scopes.js';
import { issueUserTokens, mayRefresh, storedClaimsRequest } from '../user-tokens.js';
import type { GrantHandler } from './types.js';

export const authorizationCode: GrantHandler = {
  grant_type: 'authorization_code',
  async handle({ ctx, client, params, resources, request }) {
    const { code, redirect_uri, code_verifier } = params;
    if (!code) throw new OAuthError('invalid_request', 'code is missing');
    if (code_verifier !== undefined && !isValidCodeVerifier(code_verifier))
      throw new OAuthError('invalid_request', 'code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 4.1)');

    // Spent atomically, and only when it was issued to this client (RFC 6749 §4.1.3)
    const spent = await ctx.repos.grants.consumeCode(code, client.client_id);
    if (spent.outcome === 'unknown') throw new OAuthError('invalid_grant', 'authorization code is invalid');
    if (spent.outcome === 'other_client') throw new OAuthError('invalid_grant', 'authorization code was issued to another client');
    const row = spent.row;
    if (spent.outcome === 'replayed') {
      // RFC 6749 §4.1.2: a code used twice is refused, and what it issued is revoked
      await ctx.repos.grants.revokeGrant(row.grant_id);
      await ctx.repos.audit.record({
        event: 'authorization_code_replayed',
        client_id: client.client_id,
        sub: row.sub,
        ip: request.ip,
        detail: { grant_id: row.grant_id, issued_to: row.client_id },
      });
      throw new OAuthError('invalid_grant', 'authorization code was already used; every token issued from it is revoked');
    }

    if (row.expires_at.getTime() <= Date.now()) throw new OAuthError('invalid_grant', 'authorization code has expired');

    // RFC 6749 §4.1.3: redirect_uri must be identical to the one of the authorization request.
    // It may be left out only where it could not have differed: one registered URI, the one used.
    if (redirect_uri !== undefined) {
      if (redirect_uri !== row.redirect_uri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the one of the authorization request');
    } else if (!(client.redirect_uris.length === 1 && client.redirect_uris[0] === row.redirect_uri)) {
      throw new OAuthError('invalid_request', 'redirect_uri is required, identical to the one of the authorization request');
    }

    if (row.code_challenge) {
      // RFC 7636 §4.6: the verifier must match the challenge sent with the authorization request
      if (!code_verifier) throw new OAuthError('invalid_grant', 'code_verifier is required: the authorization request had a code_challenge');
      if (row.code_challenge_method !== 'S256' || !verifyCodeVerifier(code_verifier, row.code_challenge))
        throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    } else if (code_verifier !== undefined) {
      // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a PKCE downgrade
      throw new OAuthError('invalid_grant', 'code_verifier sent, but the authorization request had no code_challenge');
    }

    if (!(await ctx.repos.grants.isGrantActive(row.grant_id))) throw new OAuthError('invalid_grant', 'the authorization was revoked or has expired');

    const scope = parseScope(row.scope);
    return issueUserTokens(ctx, {
      client,
      grant_id: row.grant_id,
      sub: row.sub,
      scope,
      resources,
      auth_time: row.auth_time,
      nonce: row.nonce,
      claims: storedClaimsRequest(row.claims),
      refresh_scope: mayRefresh(client) ? scope : undefined,
      session_id_hash: row.session_id_hash,
    });
  },
};
