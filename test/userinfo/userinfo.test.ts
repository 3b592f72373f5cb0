// UserInfo (OIDC Core §5.3) as an RFC 6750 protected resource.
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, basic, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { issueCode, tokenRequest, userinfo, type CodeOptions } from '../grants/fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

async function accessToken(opts: CodeOptions = {}): Promise<{ access_token: string; grant_id: string }> {
  const c = await issueCode(s.ctx, opts);
  const r = await tokenRequest(s, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier ?? undefined }, basic('web', SECRETS.web));
  expect(r.statusCode).toBe(200);
  return { access_token: r.json().access_token, grant_id: c.grant_id };
}

function challenge(r: { headers: Record<string, unknown> }): string {
  return String(r.headers['www-authenticate'] ?? '');
}

describe('userinfo: claims', () => {
  it('answers sub and the claims of the granted scopes as JSON, never cached', async () => {
    const { access_token } = await accessToken({ scope: 'openid profile email' });
    const r = await userinfo(s, access_token);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['cache-control']).toBe('no-store');
    const j = r.json();
    expect(j).toMatchObject({ sub: ALICE.sub, name: 'Alice Example', given_name: 'Alice', family_name: 'Example', email: 'alice@example.com', email_verified: true });
    expect(typeof j.updated_at).toBe('number');
    // profile claims alice does not have are left out, not sent empty (OIDC Core 5.3.2)
    for (const missing of ['middle_name', 'nickname', 'picture', 'birthdate', 'zoneinfo']) expect(j).not.toHaveProperty(missing);
    // not granted: address, phone
    expect(j.address).toBeUndefined();
    expect(j.phone_number).toBeUndefined();
  });

  it('answers only sub for the openid scope alone', async () => {
    const { access_token } = await accessToken({ scope: 'openid' });
    expect((await userinfo(s, access_token)).json()).toEqual({ sub: ALICE.sub });
  });

  it('serves address and phone for those scopes', async () => {
    const { access_token } = await accessToken({ scope: 'openid address phone' });
    const j = (await userinfo(s, access_token)).json();
    expect(j).toMatchObject({ sub: ALICE.sub, address: { country: 'US' }, phone_number: '+1 555 0100' });
    expect(j.email).toBeUndefined();
  });

  it('adds single claims the claims parameter asked for in userinfo (OIDC Core 5.5)', async () => {
    const { access_token } = await accessToken({ scope: 'openid', claims: { userinfo: { email: { essential: true } }, id_token: { phone_number: null } } });
    expect((await userinfo(s, access_token)).json()).toEqual({ sub: ALICE.sub, email: 'alice@example.com' });
  });

  it('takes the token from a form body on POST (RFC 6750 2.2)', async () => {
    const { access_token } = await accessToken({ scope: 'openid email' });
    const r = await s.app.inject({ method: 'POST', url: '/userinfo', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `access_token=${access_token}` });
    expect(r.statusCode).toBe(200);
    expect(r.json().email).toBe('alice@example.com');
  });

  it('takes the Bearer header on POST too', async () => {
    const { access_token } = await accessToken();
    const r = await s.app.inject({ method: 'POST', url: '/userinfo', headers: { authorization: `Bearer ${access_token}` } });
    expect(r.statusCode).toBe(200);
  });

  it('is advertised in discovery', async () => {
    const d = (await s.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    expect(d.userinfo_endpoint).toBe(`${s.issuer}/userinfo`);
  });
});

describe('userinfo: refusals', () => {
  it('asks for a token without an error code when none was sent (RFC 6750 3.1)', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/userinfo' });
    expect(r.statusCode).toBe(401);
    expect(challenge(r)).toBe('Bearer');
  });

  it('answers invalid_token for a token that is not ours', async () => {
    const r = await userinfo(s, 'not.a.token');
    expect(r.statusCode).toBe(401);
    expect(challenge(r)).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
    expect(r.json().error).toBe('invalid_token');
  });

  it('answers invalid_token for an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await s.ctx.keystore.sign(
      { iss: s.issuer, sub: ALICE.sub, aud: 'web', client_id: 'web', scope: 'openid', iat: now - 7200, exp: now - 3600, jti: 'expired-1' },
      { alg: 'RS256', typ: 'at+jwt' },
    );
    const r = await userinfo(s, expired);
    expect(r.statusCode).toBe(401);
    expect(challenge(r)).toContain('error="invalid_token"');
  });

  it('answers invalid_token for a token of another issuer, even one signed with our key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: ALICE.sub, aud: 'web', client_id: 'web', scope: 'openid', iat: now, exp: now + 600, jti: 'foreign-1' };
    const ours = await s.ctx.keystore.sign({ ...claims, iss: 'https://evil.example.com' }, { alg: 'RS256', typ: 'at+jwt' });
    expect(challenge(await userinfo(s, ours))).toContain('error="invalid_token"');
    const { privateKey } = await generateKeyPair('RS256');
    const kid = (await s.ctx.keystore.jwks()).keys[0]!.kid!;
    const theirs = await new SignJWT({ ...claims, iss: s.issuer }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(privateKey);
    expect((await userinfo(s, theirs)).statusCode).toBe(401);
  });

  it('answers invalid_token once the grant is revoked', async () => {
    const { access_token, grant_id } = await accessToken();
    expect((await userinfo(s, access_token)).statusCode).toBe(200);
    await s.ctx.repos.grants.revokeGrant(grant_id);
    const r = await userinfo(s, access_token);
    expect(r.statusCode).toBe(401);
    expect(challenge(r)).toContain('error="invalid_token"');
  });

  it('does not take an ID token as an access token', async () => {
    const c = await issueCode(s.ctx);
    const j = (await tokenRequest(s, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier! }, basic('web', SECRETS.web))).json();
    expect((await userinfo(s, j.id_token)).statusCode).toBe(401);
  });

  it('answers 403 insufficient_scope for a token without openid', async () => {
    const cc = (await tokenRequest(s, { grant_type: 'client_credentials' }, basic('service', SECRETS.service))).json();
    const r = await userinfo(s, cc.access_token);
    expect(r.statusCode).toBe(403);
    expect(challenge(r)).toMatch(/^Bearer error="insufficient_scope"/);
    expect(r.json().error).toBe('insufficient_scope');
    const { access_token } = await accessToken({ scope: 'profile email' });
    expect((await userinfo(s, access_token)).statusCode).toBe(403);
  });

  it('refuses a token in the URL query (RFC 9700 2.4)', async () => {
    const { access_token } = await accessToken();
    const r = await s.app.inject({ method: 'GET', url: `/userinfo?access_token=${access_token}` });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
    expect(challenge(r)).toContain('error="invalid_request"');
  });

  it('refuses a token sent both in the header and in the body (RFC 6750 2)', async () => {
    const { access_token } = await accessToken();
    const r = await s.app.inject({
      method: 'POST',
      url: '/userinfo',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `access_token=${access_token}`,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
  });

  it('refuses an Authorization header that is not a Bearer token', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: basic('web', SECRETS.web) } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
  });

  it('answers 400, not 500, to a body it cannot read', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/userinfo', headers: { 'content-type': 'application/json' }, payload: '{"access_token":' });
    expect(r.statusCode).toBe(400);
  });
});
