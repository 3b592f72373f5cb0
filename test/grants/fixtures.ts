// Grants and codes written straight through the repositories, the way /authorize stores them,
// so the token endpoint can be tested on its own.
import { createHash } from 'node:crypto';
import type { AppContext } from '../../src/context.js';
import { randomToken } from '../../src/crypto/random.js';
import type { TestServer } from '../support/harness.js';
import { ALICE, REDIRECT } from '../support/harness.js';

export interface CodeOptions {
  client_id?: string;
  sub?: string;
  scope?: string;
  redirect_uri?: string;
  nonce?: string | null;
  /** a PKCE verifier; its S256 challenge is stored. null: a code without a challenge */
  verifier?: string | null;
  auth_time?: Date;
  claims?: Record<string, unknown> | null;
  /** seconds from now; negative for an expired code */
  code_ttl?: number;
  grant_ttl?: number;
}

export interface IssuedCode {
  code: string;
  grant_id: string;
  verifier: string | null;
  auth_time: Date;
}

export function newVerifier(): string {
  return randomToken(48);
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export async function issueCode(ctx: AppContext, o: CodeOptions = {}): Promise<IssuedCode> {
  const grant_id = randomToken(16);
  const code = randomToken(32);
  const client_id = o.client_id ?? 'web';
  const sub = o.sub ?? ALICE.sub;
  const scope = o.scope ?? 'openid profile email offline_access';
  const auth_time = o.auth_time ?? new Date(Math.floor(Date.now() / 1000 - 30) * 1000);
  const verifier = o.verifier === undefined ? newVerifier() : o.verifier;
  const claims = o.claims ?? null;
  await ctx.repos.grants.createGrant({
    grant_id,
    client_id,
    sub,
    scope,
    auth_time,
    claims,
    expires_at: new Date(Date.now() + (o.grant_ttl ?? 3600) * 1000),
  });
  await ctx.repos.grants.saveCode({
    code,
    grant_id,
    client_id,
    sub,
    redirect_uri: o.redirect_uri ?? REDIRECT,
    scope,
    nonce: o.nonce === undefined ? 'n-0S6_WzA2Mj' : o.nonce,
    code_challenge: verifier ? s256(verifier) : null,
    code_challenge_method: verifier ? 'S256' : null,
    auth_time,
    session_id_hash: null,
    claims,
    include_auth_time: false,
    expires_at: new Date(Date.now() + (o.code_ttl ?? 60) * 1000),
  });
  return { code, grant_id, verifier, auth_time };
}

/** POST /token through app.inject. */
export function tokenRequest(s: TestServer, body: Record<string, string | undefined>, authorization?: string) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) if (v !== undefined) form.append(k, v);
  return s.app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    payload: form.toString(),
  });
}

/** GET /userinfo with a bearer token. */
export function userinfo(s: TestServer, accessToken: string) {
  return s.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${accessToken}` } });
}

/** RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
export const RFC6749_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
