// The token response of a grant a user gave (authorization code, refresh token, and any other
// grant that acts for a person): an RFC 9068 access token tied to the grant, an ID token when
// `openid` was granted (OIDC Core §3.1.3.3), and a refresh token when the client may have one.
import type { AppContext } from '../context.js';
import { randomToken } from '../crypto/random.js';
import { sidOf } from '../authentication/login-session.js';
import type { Client } from '../repositories/clients.js';
import { claimNames, claimsRequestSchema, SCOPE_CLAIMS, userClaims, type ClaimsRequest } from './claims.js';
import { OAuthError } from './errors.js';
import type { TokenResponse } from './grants/types.js';
import { formatScope } from './scopes.js';
import { subjectFor } from './subject.js';
import { accessTokenTtl, mintAccessToken, mintIdToken, newRefreshToken, refreshTokenTtl, resolveAudience } from './tokens.js';

/** Claims a user can have; the `claims` parameter may ask for these one by one (OIDC Core §5.5). */
const USER_CLAIMS = new Set(Object.values(SCOPE_CLAIMS).flat());

/** The stored `claims` request parameter of a grant or code, or undefined when absent or unreadable. */
export function storedClaimsRequest(value: unknown): ClaimsRequest | undefined {
  if (value === null || value === undefined) return undefined;
  const parsed = claimsRequestSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Names of the single claims that the `claims` parameter asks for in one member (§5.5). */
export function requestedClaimNames(claims: ClaimsRequest | undefined, member: 'id_token' | 'userinfo'): string[] {
  return Object.keys(claims?.[member] ?? {}).filter((name) => USER_CLAIMS.has(name));
}

export interface UserTokenRequest {
  client: Client;
  grant_id: string;
  sub: string;
  /** the scope of these tokens (already checked against what was granted) */
  scope: string[];
  /** RFC 8707 resource indicators of this request */
  resources: string[];
  auth_time: Date;
  /** OIDC Core §3.1.3.6: the nonce of the authentication request; never on a refreshed ID token (§12.2) */
  nonce?: string | null | undefined;
  claims?: ClaimsRequest | undefined;
  /** the scope a new refresh token carries; undefined: no refresh token */
  refresh_scope?: string[] | undefined;
  /** the login session the grant was given in, if any: its sid goes into the ID token */
  session_id_hash?: string | null | undefined;
}

/** Mints the tokens and stores the refresh token (hashed). */
export async function issueUserTokens(ctx: AppContext, r: UserTokenRequest): Promise<TokenResponse> {
  const scope = formatScope(r.scope);
  const authTime = Math.floor(r.auth_time.getTime() / 1000);
  const aud = resolveAudience(r.client, r.resources);
  // OIDC Core §8: the client's subject (pairwise or public) in every token it gets
  const sub = subjectFor(ctx, r.client, r.sub);
  const at = await mintAccessToken(ctx, { client: r.client, sub, scope, aud, grant_id: r.grant_id, auth_time: authTime });
  const response: TokenResponse = { access_token: at.access_token, token_type: 'Bearer', expires_in: at.expires_in, scope };

  if (r.scope.includes('openid')) {
    // OIDC Core §5.4: with an access token, the scope's claims are served by userinfo; only the
    // claims the `claims` parameter asked for in id_token go into the ID token (§5.5).
    const names = requestedClaimNames(r.claims, 'id_token');
    let claims: Record<string, unknown> = {};
    if (names.length) {
      const user = await ctx.repos.users.findBySub(r.sub);
      if (!user) throw new OAuthError('invalid_grant', 'the user of this grant no longer exists');
      claims = userClaims(user, claimNames([], names));
    }
    const sid = r.session_id_hash ? sidOf(r.session_id_hash) : undefined;
    response.id_token = await mintIdToken(ctx, { client: r.client, sub, auth_time: authTime, nonce: r.nonce, access_token: at.access_token, claims, sid });
  }

  if (r.refresh_scope) {
    const token = newRefreshToken();
    const expires_at = new Date(Date.now() + refreshTokenTtl(ctx, r.client) * 1000);
    await ctx.repos.grants.saveRefreshToken({ token, grant_id: r.grant_id, client_id: r.client.client_id, scope: formatScope(r.refresh_scope), expires_at });
    response.refresh_token = token;
  }
  return response;
}

/**
 * Whether a client gets a refresh token (issue 3: "offline_access, or the grant type
 * registered"). /token refuses the refresh_token grant to clients that did not register it, so
 * a token is only worth issuing to those that did.
 */
export function mayRefresh(client: Client): boolean {
  return (client.grant_types as string[]).includes('refresh_token');
}

/**
 * Opens a grant: one row per authorization a user gave a client, so that ending it (code replay,
 * refresh-token reuse, revocation) ends every token it issued. It lives as long as the last
 * token it can mint: an access token minted by the last refresh, so refresh + access lifetime.
 */
export async function openGrant(
  ctx: AppContext,
  g: { client: Client; sub: string; scope: string; auth_time: Date; claims?: ClaimsRequest | null; refreshable: boolean; session_id_hash?: string },
): Promise<string> {
  const grant_id = randomToken();
  const lifetime = accessTokenTtl(ctx, g.client) + (g.refreshable ? refreshTokenTtl(ctx, g.client) : 0);
  await ctx.repos.grants.createGrant({
    grant_id,
    client_id: g.client.client_id,
    sub: g.sub,
    scope: g.scope,
    auth_time: g.auth_time,
    claims: g.claims ?? null,
    session_id_hash: g.session_id_hash ?? null,
    expires_at: new Date(Date.now() + lifetime * 1000),
  });
  return grant_id;
}
