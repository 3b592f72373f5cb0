// Revocation details that need tokens minted in-process: public clients (RFC 7009 §2.1 with
// client_id only), how long a revoked jti is kept, and expired tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../src/crypto/random.js';
import { mintAccessToken, newRefreshToken, verifyAccessToken } from '../../src/oauth/tokens.js';
import { ALICE, claimsOf, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const revoke = (body: Record<string, string>) =>
  s.app.inject({ method: 'POST', url: '/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body).toString() });

/** A user grant of a public client, as the code or device flow would leave it. */
async function publicClientTokens(clientId: string) {
  const c = (await s.ctx.clients.get(clientId))!;
  const grant_id = randomToken(16);
  const now = new Date();
  await s.ctx.repos.grants.createGrant({ grant_id, client_id: clientId, sub: ALICE.sub, scope: 'openid offline_access', auth_time: now, expires_at: new Date(now.getTime() + 3_600_000) });
  const at = await mintAccessToken(s.ctx, { client: c, sub: ALICE.sub, scope: 'openid offline_access', aud: clientId, grant_id });
  const refresh_token = newRefreshToken();
  await s.ctx.repos.grants.saveRefreshToken({ token: refresh_token, grant_id, client_id: clientId, scope: 'openid offline_access', expires_at: new Date(now.getTime() + 3_600_000) });
  return { access_token: at.access_token, refresh_token, grant_id };
}

describe('revocation by public clients and in the database', () => {
  it('lets a public client revoke its own refresh token with client_id alone, ending the grant', async () => {
    const t = await publicClientTokens('spa');
    const r = await revoke({ client_id: 'spa', token: t.refresh_token });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(await s.ctx.repos.grants.isGrantActive(t.grant_id)).toBe(false);
    expect(await verifyAccessToken(s.ctx, t.access_token)).toBeUndefined();
  });

  it("does not let a public client revoke another public client's tokens", async () => {
    const t = await publicClientTokens('tv');
    expect((await revoke({ client_id: 'spa', token: t.refresh_token })).statusCode).toBe(200);
    expect((await revoke({ client_id: 'spa', token: t.access_token })).statusCode).toBe(200);
    expect(await s.ctx.repos.grants.isGrantActive(t.grant_id)).toBe(true);
    expect(await verifyAccessToken(s.ctx, t.access_token)).toBeDefined();
  });

  it('keeps a revoked access token jti until the token would have expired, then it can be purged', async () => {
    const t = await publicClientTokens('tv');
    expect((await revoke({ client_id: 'tv', token: t.access_token })).statusCode).toBe(200);
    const { jti, exp } = claimsOf(t.access_token) as { jti: string; exp: number };
    const row = await s.ctx.db.selectFrom('token_revocations').selectAll().where('jti', '=', jti).executeTakeFirst();
    expect(row!.expires_at.getTime()).toBe(exp * 1000);
    expect(await s.ctx.repos.tokens.isJtiRevoked(jti)).toBe(true);
    // revoking twice is fine (§2.2: an invalid token is no error)
    expect((await revoke({ client_id: 'tv', token: t.access_token })).statusCode).toBe(200);
  });

  it('records nothing for an expired access token (it needs no revocation)', async () => {
    const c = (await s.ctx.clients.get('tv'))!;
    const now = Math.floor(Date.now() / 1000);
    const jti = randomToken(16);
    const expired = await s.ctx.keystore.sign(
      { iss: s.issuer, sub: ALICE.sub, aud: 'tv', client_id: c.client_id, iat: now - 7200, exp: now - 3600, jti },
      { alg: 'RS256', typ: 'at+jwt' },
    );
    expect((await revoke({ client_id: 'tv', token: expired })).statusCode).toBe(200);
    expect(await s.ctx.repos.tokens.isJtiRevoked(jti)).toBe(false);
  });

  it('refuses an unknown client with 401 invalid_client', async () => {
    const r = await revoke({ client_id: 'nobody', token: 'x' });
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toBe('invalid_client');
  });

  it('refuses a repeated token parameter with invalid_request', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'client_id=tv&token=a&token=b' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
  });
});
