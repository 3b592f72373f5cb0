// Introspection details that need tokens made in-process: expiry, foreign keys, disabled clients.
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncClients } from '../../src/bootstrap.js';
import { randomToken } from '../../src/crypto/random.js';
import { mintAccessToken, newRefreshToken } from '../../src/oauth/tokens.js';
import { ALICE, basic, defaultClients, SECRETS, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const introspect = async (token: string, auth = basic('service', SECRETS.service)) => {
  const r = await s.app.inject({ method: 'POST', url: '/introspect', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token }).toString() });
  expect(r.statusCode).toBe(200);
  return r.json() as Record<string, unknown>;
};

const now = () => Math.floor(Date.now() / 1000);

async function userGrant(clientId: string, refreshExpiresAt: Date) {
  const grant_id = randomToken(16);
  await s.ctx.repos.grants.createGrant({ grant_id, client_id: clientId, sub: ALICE.sub, scope: 'openid', auth_time: new Date(), expires_at: new Date(Date.now() + 3_600_000) });
  const refresh_token = newRefreshToken();
  await s.ctx.repos.grants.saveRefreshToken({ token: refresh_token, grant_id, client_id: clientId, scope: 'openid', expires_at: refreshExpiresAt });
  return { grant_id, refresh_token };
}

describe('introspection edge cases', () => {
  it('reports an expired access token inactive', async () => {
    const expired = await s.ctx.keystore.sign(
      { iss: s.issuer, sub: ALICE.sub, aud: 'web', client_id: 'web', iat: now() - 7200, exp: now() - 60, jti: randomToken(16), scope: 'openid' },
      { alg: 'RS256', typ: 'at+jwt' },
    );
    expect(await introspect(expired)).toEqual({ active: false });
  });

  it('reports a token signed with a key that is not ours inactive, even with our kid and claims', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const kid = (await s.ctx.keystore.jwks()).keys[0]!.kid!;
    const forged = await new SignJWT({ client_id: 'web', scope: 'openid', jti: randomToken(16) })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
      .setIssuer(s.issuer)
      .setSubject(ALICE.sub)
      .setAudience('web')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    expect(await introspect(forged)).toEqual({ active: false });
  });

  it('reports an access token from another issuer inactive', async () => {
    const c = (await s.ctx.clients.get('service'))!;
    const other = await s.ctx.keystore.sign({ iss: 'https://elsewhere.example.com', sub: 'service', aud: 'x', client_id: c.client_id, iat: now(), exp: now() + 60, jti: randomToken(16) }, { alg: 'RS256', typ: 'at+jwt' });
    expect(await introspect(other)).toEqual({ active: false });
  });

  it('reports an expired refresh token inactive to its own client', async () => {
    const live = await userGrant('web', new Date(Date.now() + 60_000));
    expect(await introspect(live.refresh_token, basic('web', SECRETS.web))).toMatchObject({ active: true, token_type: 'refresh_token' });
    const { refresh_token } = await userGrant('web', new Date(Date.now() - 1000));
    expect(await introspect(refresh_token, basic('web', SECRETS.web))).toEqual({ active: false });
  });

  it('reports tokens of a client the registry no longer lists inactive', async () => {
    const web = (await s.ctx.clients.get('web'))!;
    const at = await mintAccessToken(s.ctx, { client: web, sub: ALICE.sub, scope: 'openid', aud: 'web' });
    expect(await introspect(at.access_token)).toMatchObject({ active: true, client_id: 'web' });
    await syncClients(s.ctx, defaultClients().filter((c) => c.client_id !== 'web'));
    try {
      expect(await introspect(at.access_token)).toEqual({ active: false });
    } finally {
      await syncClients(s.ctx, defaultClients());
    }
  });
});
