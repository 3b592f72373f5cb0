// Minting and checking tokens. Access tokens are RFC 9068 JWTs; ID tokens follow OIDC Core §2.
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { AppContext } from '../context.js';
import { randomToken } from '../crypto/random.js';
import type { SigningAlg } from '../crypto/keystore.js';
import type { Client } from '../repositories/clients.js';
import { OAuthError } from './errors.js';

export interface AccessTokenInput {
  client: Client;
  /** the resource owner; for client_credentials the client itself (RFC 9068 §2.2) */
  sub: string;
  scope: string;
  aud: string | string[];
  grant_id?: string | undefined;
  auth_time?: number | undefined;
  /** RFC 8693 §4.1: the actor (delegation), with prior actors nested */
  act?: ActClaim | undefined;
  /** latest exp (epoch seconds): an exchanged token never outlives its subject token (RFC 8693 §2.1) */
  not_after?: number | undefined;
}

/** RFC 8693 §4.1: who acts for the subject; a nested act is the actor before it. */
export interface ActClaim {
  sub: string;
  act?: ActClaim | undefined;
}

export interface MintedAccessToken {
  access_token: string;
  jti: string;
  expires_in: number;
}

export const ACCESS_TOKEN_TYP = 'at+jwt';

export function accessTokenTtl(ctx: AppContext, client: Client): number {
  return client.access_token_ttl ?? ctx.env.ACCESS_TOKEN_TTL;
}

/** RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti (+ scope, auth_time). */
export async function mintAccessToken(ctx: AppContext, t: AccessTokenInput): Promise<MintedAccessToken> {
  const now = Math.floor(Date.now() / 1000);
  const ttl = Math.min(accessTokenTtl(ctx, t.client), (t.not_after ?? Infinity) - now);
  const jti = randomToken(16);
  const payload: JWTPayload = {
    iss: ctx.env.ISSUER,
    sub: t.sub,
    aud: t.aud,
    client_id: t.client.client_id,
    iat: now,
    exp: now + ttl,
    jti,
  };
  if (t.scope) payload.scope = t.scope;
  if (t.auth_time !== undefined) payload.auth_time = t.auth_time;
  // which grant this token came from, so ending the grant ends the token (INTERFACE.md guarantees)
  if (t.grant_id) payload.grant_id = t.grant_id;
  if (t.act) payload.act = t.act;
  const access_token = await ctx.keystore.sign(payload, { alg: 'RS256', typ: ACCESS_TOKEN_TYP });
  return { access_token, jti, expires_in: ttl };
}

/** OIDC Core §3.1.3.6 / §3.2.2.10: left half of the SHA-256 of the value, base64url. */
export function halfHash(value: string, alg: SigningAlg): string {
  // both RS256 and ES256 use SHA-256
  void alg;
  const digest = createHash('sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export interface IdTokenInput {
  client: Client;
  sub: string;
  auth_time: number;
  nonce?: string | null | undefined;
  access_token?: string | undefined;
  claims?: Record<string, unknown>;
  /** the login session's sid (Back-Channel Logout 1.0 §2.4), when issued from one */
  sid?: string | undefined;
}

/**
 * OIDC Core §2: iss, sub, aud, exp, iat, auth_time, nonce, at_hash, azp. No c_hash: it belongs
 * to the hybrid response types (§3.3.2.11), which are not supported.
 */
export async function mintIdToken(ctx: AppContext, t: IdTokenInput): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const alg = t.client.id_token_signed_response_alg;
  const payload: JWTPayload = {
    ...(t.claims ?? {}),
    iss: ctx.env.ISSUER,
    sub: t.sub,
    aud: t.client.client_id,
    // azp is needed only when aud has more than one value (OIDC Core §2); ours has one, but
    // naming the client costs nothing and some relying parties look for it
    azp: t.client.client_id,
    iat: now,
    exp: now + (t.client.id_token_ttl ?? ctx.env.ID_TOKEN_TTL),
    auth_time: t.auth_time,
    ...(t.nonce ? { nonce: t.nonce } : {}),
    ...(t.access_token ? { at_hash: halfHash(t.access_token, alg) } : {}),
    ...(t.sid ? { sid: t.sid } : {}),
  };
  return ctx.keystore.sign(payload, { alg, typ: 'JWT' });
}

export interface VerifiedAccessToken {
  sub: string;
  client_id: string;
  scope: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  grant_id?: string;
  auth_time?: number;
  act?: ActClaim;
}

/**
 * Verifies one of our access tokens: signature, typ, issuer, expiry, then that it was not
 * revoked (its jti, or its whole grant). Returns undefined for anything that is not a live token.
 */
export async function verifyAccessToken(ctx: AppContext, token: string): Promise<VerifiedAccessToken | undefined> {
  let payload: JWTPayload;
  try {
    ({ payload } = await ctx.keystore.verify(token, { issuer: ctx.env.ISSUER, typ: ACCESS_TOKEN_TYP, requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'] }));
  } catch {
    return undefined;
  }
  const t = payload as JWTPayload & VerifiedAccessToken;
  if (await ctx.repos.tokens.isJtiRevoked(t.jti)) return undefined;
  if (t.grant_id && !(await ctx.repos.grants.isGrantActive(t.grant_id))) return undefined;
  const client = await ctx.clients.get(t.client_id);
  if (!client) return undefined;
  return { ...t, scope: typeof t.scope === 'string' ? t.scope : '', aud: t.aud ?? [] };
}

export function newRefreshToken(): string {
  return randomToken(32);
}

export function refreshTokenTtl(ctx: AppContext, client: Client): number {
  return client.refresh_token_ttl ?? ctx.env.REFRESH_TOKEN_TTL;
}

/**
 * The audience of an access token (RFC 8707 §2): a requested `resource` (or `audience`) the
 * client registered, or the client's default audience, or the client id.
 */
export function resolveAudience(client: Client, requested: string[]): string | string[] {
  if (requested.length) {
    const unknown = requested.find((r) => !client.audience.includes(r));
    if (unknown) throw new OAuthError('invalid_target', `resource ${unknown} is not one this client may request`);
    return requested.length === 1 ? requested[0]! : requested;
  }
  if (client.audience.length === 1) return client.audience[0]!;
  if (client.audience.length > 1) return client.audience;
  return client.client_id;
}
