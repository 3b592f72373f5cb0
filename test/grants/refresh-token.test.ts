// The refresh_token grant (RFC 6749 §6): rotation, reuse detection (RFC 9700 §4.14.2), scope
// narrowing, refreshed ID tokens (OIDC Core §12.2).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/crypto/hash.js';
import { ALICE, basic, claimsOf, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { issueCode, RFC6749_DESCRIPTION, tokenRequest, userinfo } from './fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const web = basic('web', SECRETS.web);
const refresh = (refresh_token: string, extra: Record<string, string> = {}, auth: string | undefined = web) =>
  tokenRequest(s, { grant_type: 'refresh_token', refresh_token, ...extra }, auth);

/** A fresh grant: the tokens of a redeemed code. */
async function signedIn(opts: Parameters<typeof issueCode>[1] = {}) {
  const c = await issueCode(s.ctx, opts);
  const r = await tokenRequest(s, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier ?? undefined }, web);
  expect(r.statusCode).toBe(200);
  return { ...c, tokens: r.json() as { access_token: string; refresh_token: string; id_token?: string } };
}

function expectError(r: { statusCode: number; json: () => { error: string; error_description: string } }, error: string) {
  expect(r.statusCode).toBe(400);
  const j = r.json();
  expect(j.error).toBe(error);
  expect(j.error_description).toMatch(RFC6749_DESCRIPTION);
  return j.error_description;
}

describe('refresh_token: rotation', () => {
  it('answers new tokens and a new refresh token on every use, never cached', async () => {
    const g = await signedIn();
    const r = await refresh(g.tokens.refresh_token);
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers.pragma).toBe('no-cache');
    const j = r.json();
    expect(j.refresh_token).toBeTruthy();
    expect(j.refresh_token).not.toBe(g.tokens.refresh_token);
    expect(j).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email offline_access' });
    expect(claimsOf(j.access_token)).toMatchObject({ sub: ALICE.sub, grant_id: g.grant_id, client_id: 'web' });
    // and the new one works in turn
    expect((await refresh(j.refresh_token)).statusCode).toBe(200);
  });

  it('refreshes the ID token with the same sub and auth_time and no nonce (OIDC Core 12.2)', async () => {
    const g = await signedIn({ nonce: 'first-nonce' });
    const before = claimsOf(g.tokens.id_token!);
    const after = claimsOf((await refresh(g.tokens.refresh_token)).json().id_token);
    expect(after.sub).toBe(before.sub);
    expect(after.auth_time).toBe(before.auth_time);
    expect(after.nonce).toBeUndefined();
    expect(after.at_hash).toBeTruthy();
  });

  it('keeps claims the claims parameter asked for in the refreshed ID token', async () => {
    const g = await signedIn({ claims: { id_token: { email: null } } });
    expect(claimsOf((await refresh(g.tokens.refresh_token)).json().id_token).email).toBe('alice@example.com');
  });

  it('revokes the whole family when a rotated token is used again (RFC 9700 4.14.2)', async () => {
    const g = await signedIn();
    const second = (await refresh(g.tokens.refresh_token)).json();
    expect(expectError(await refresh(g.tokens.refresh_token), 'invalid_grant')).toMatch(/already used/);
    // the token that replaced it, and every access token of the grant, stop working
    expectError(await refresh(second.refresh_token), 'invalid_grant');
    expect((await userinfo(s, second.access_token)).statusCode).toBe(401);
    expect((await userinfo(s, g.tokens.access_token)).statusCode).toBe(401);
    const audit = await s.ctx.repos.audit.recent(10);
    expect(audit.find((e) => e.event === 'refresh_token_reused' && (e.detail as { grant_id?: string }).grant_id === g.grant_id)).toBeTruthy();
  });
});

describe('refresh_token: scope', () => {
  it('narrows the access token to a requested subset; the new refresh token keeps the full scope (RFC 6749 6)', async () => {
    const g = await signedIn();
    const narrowed = (await refresh(g.tokens.refresh_token, { scope: 'openid email' })).json();
    expect(narrowed.scope).toBe('openid email');
    expect(claimsOf(narrowed.access_token).scope).toBe('openid email');
    const u = (await userinfo(s, narrowed.access_token)).json();
    expect(u.email).toBe('alice@example.com');
    expect(u.name).toBeUndefined();
    const full = (await refresh(narrowed.refresh_token, { scope: 'openid profile email' })).json();
    expect(full.scope).toBe('openid profile email');
  });

  it('issues no ID token when the narrowed scope lacks openid', async () => {
    const g = await signedIn();
    const j = (await refresh(g.tokens.refresh_token, { scope: 'profile' })).json();
    expect(j.id_token).toBeUndefined();
    expect(j.scope).toBe('profile');
  });

  it('refuses a wider scope with invalid_scope and leaves the token usable', async () => {
    const g = await signedIn({ scope: 'openid email offline_access' });
    expect(expectError(await refresh(g.tokens.refresh_token, { scope: 'openid profile' }), 'invalid_scope')).toMatch(/profile/);
    // the description names the scope, but only in the characters RFC 6749 5.2 allows (checked by expectError)
    expectError(await refresh(g.tokens.refresh_token, { scope: 'openid "pr\\ofilé"' }), 'invalid_scope');
    expect((await refresh(g.tokens.refresh_token)).statusCode).toBe(200);
  });
});

describe('refresh_token: refusals', () => {
  it("refuses another client's refresh token and does not spend it", async () => {
    const g = await signedIn();
    const other = await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: g.tokens.refresh_token, client_id: 'legacy', client_secret: SECRETS.legacy });
    expect(expectError(other, 'invalid_grant')).toMatch(/another client/);
    const pub = await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: g.tokens.refresh_token, client_id: 'spa' });
    expectError(pub, 'invalid_grant');
    expect((await refresh(g.tokens.refresh_token)).statusCode).toBe(200);
  });

  it('refuses a refresh token of a revoked grant', async () => {
    const g = await signedIn();
    await s.ctx.repos.grants.revokeGrant(g.grant_id);
    expect(expectError(await refresh(g.tokens.refresh_token), 'invalid_grant')).toMatch(/revoked/);
  });

  it('refuses a refresh token of an expired grant', async () => {
    const g = await signedIn();
    await s.ctx.db.updateTable('grants').set({ expires_at: sql`now() - interval '1 second'` }).where('grant_id', '=', g.grant_id).execute();
    expectError(await refresh(g.tokens.refresh_token), 'invalid_grant');
  });

  it('refuses an expired refresh token', async () => {
    const g = await signedIn();
    await s.ctx.db
      .updateTable('refresh_tokens')
      .set({ expires_at: sql`now() - interval '1 second'` })
      .where('token_hash', '=', sha256(g.tokens.refresh_token))
      .execute();
    expect(expectError(await refresh(g.tokens.refresh_token), 'invalid_grant')).toMatch(/expired/);
  });

  it('refuses an unknown refresh token and a missing one', async () => {
    expectError(await refresh('not-a-refresh-token'), 'invalid_grant');
    expectError(await tokenRequest(s, { grant_type: 'refresh_token' }, web), 'invalid_request');
  });

  it('refuses a client that did not register refresh_token (unauthorized_client)', async () => {
    const g = await signedIn();
    const r = await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: g.tokens.refresh_token }, basic('service', SECRETS.service));
    expectError(r, 'unauthorized_client');
  });
});

describe('refresh_token: one token, many redemptions at once', () => {
  it('gives exactly one of 20 concurrent refreshes new tokens', async () => {
    const g = await signedIn();
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(g.tokens.refresh_token)));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.statusCode !== 200)) expect(r.json().error).toBe('invalid_grant');
  });
});
