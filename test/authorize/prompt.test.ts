// prompt, max_age and id_token_hint (OIDC Core §3.1.2.1, §3.1.2.6): when the request is
// answered at once, when the person must sign in (again) or consent, and when prompt=none fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken, mintIdToken } from '../../src/oauth/tokens.js';
import { ALICE, startTestServer, type TestServer } from '../support/harness.js';
import { authorizeUrl, codeRequest, get, Jar, logInThroughPage, redirectParams, signedIn } from './support.js';

let s: TestServer;
const BOB = { username: 'bob', password: 'bob-password-123', sub: 'bob-sub-1' };
beforeAll(async () => {
  s = await startTestServer({
    users: [
      { username: ALICE.username, password: ALICE.password, sub: ALICE.sub, claims: { name: 'Alice Example', email: 'alice@example.com' } },
      { username: BOB.username, password: BOB.password, sub: BOB.sub, claims: { name: 'Bob' } },
    ],
  });
  await s.ctx.repos.consents.grant(ALICE.sub, 'web', ['openid', 'profile', 'email']);
});
afterAll(async () => s?.close());

const web = async () => (await s.ctx.clients.get('web'))!;
const isLogin = (res: { statusCode: number; headers: Record<string, unknown> }) =>
  res.statusCode === 303 && new URL(String(res.headers.location), s.issuer).pathname === '/login';

async function codeRow(res: Parameters<typeof redirectParams>[0]) {
  const code = redirectParams(res).params.get('code');
  if (!code) throw new Error(`no code: ${res.headers.location}`);
  const spent = await s.ctx.repos.grants.consumeCode(code);
  if (spent.outcome !== 'ok') throw new Error('code not found');
  return spent.row;
}

describe('prompt=none', () => {
  it('answers at once with a code when the person is signed in and consented', async () => {
    const res = await get(s, await signedIn(s), authorizeUrl(codeRequest({ prompt: 'none' })));
    expect(res.statusCode).toBe(303);
    expect(redirectParams(res).params.get('code')).toBeTruthy();
  });

  it('is consent_required when the scopes were not granted before', async () => {
    const req = codeRequest({ prompt: 'none', scope: 'openid phone' });
    const r = redirectParams(await get(s, await signedIn(s), authorizeUrl(req)));
    expect(r.params.get('error')).toBe('consent_required');
    expect(r.params.get('state')).toBe(req.state);
    expect(r.params.get('iss')).toBe(s.issuer);
  });

  it('answers when id_token_hint names the signed-in user, and is login_required when it names another', async () => {
    const client = await web();
    const alice = await mintIdToken(s.ctx, { client, sub: ALICE.sub, auth_time: 1 });
    const bob = await mintIdToken(s.ctx, { client, sub: BOB.sub, auth_time: 1 });
    const jar = await signedIn(s);
    expect(redirectParams(await get(s, jar, authorizeUrl(codeRequest({ prompt: 'none', id_token_hint: alice })))).params.get('code')).toBeTruthy();
    const r = redirectParams(await get(s, jar, authorizeUrl(codeRequest({ prompt: 'none', id_token_hint: bob }))));
    expect(r.params.get('error')).toBe('login_required');
  });

  it('accepts an expired id_token_hint (OIDC Core 3.1.2.1)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await s.ctx.keystore.sign({ iss: s.issuer, sub: ALICE.sub, aud: 'web', iat: now - 7200, exp: now - 3600, auth_time: now - 7200 }, { alg: 'RS256', typ: 'JWT' });
    const res = await get(s, await signedIn(s), authorizeUrl(codeRequest({ prompt: 'none', id_token_hint: expired })));
    expect(redirectParams(res).params.get('code')).toBeTruthy();
  });

  it('refuses an id_token_hint with a bad signature, from another issuer, for another client, or an access token, with invalid_request', async () => {
    const client = await web();
    const good = await mintIdToken(s.ctx, { client, sub: ALICE.sub, auth_time: 1 });
    const [h, p, sig] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: BOB.sub })).toString('base64url')}.${sig}`;
    const now = Math.floor(Date.now() / 1000);
    const foreign = await s.ctx.keystore.sign({ iss: 'https://other.example.com', sub: ALICE.sub, aud: 'web', iat: now, exp: now + 60 }, { alg: 'RS256', typ: 'JWT' });
    const otherClient = await mintIdToken(s.ctx, { client: (await s.ctx.clients.get('spa'))!, sub: ALICE.sub, auth_time: 1 });
    const access = (await mintAccessToken(s.ctx, { client, sub: ALICE.sub, scope: 'openid', aud: 'web' })).access_token;
    const jar = await signedIn(s);
    for (const hint of [tampered, foreign, otherClient, access]) {
      const r = redirectParams(await get(s, jar, authorizeUrl(codeRequest({ prompt: 'none', id_token_hint: hint }))));
      expect(r.params.get('error')).toBe('invalid_request');
    }
  });

  it('is login_required when max_age has passed', async () => {
    const jar = await signedIn(s, { authTime: new Date(Date.now() - 120_000) });
    const r = redirectParams(await get(s, jar, authorizeUrl(codeRequest({ prompt: 'none', max_age: '60' }))));
    expect(r.params.get('error')).toBe('login_required');
  });
});

describe('signing in again', () => {
  it('prompt=login shows the login page to a signed-in person; the new auth_time is later than the old one', async () => {
    const jar = await signedIn(s);
    const oldId = s.app.unsignCookie(jar.cookies.get('session')!).value!;
    const old = await s.ctx.repos.sessions.findActive(oldId);
    const res = await get(s, jar, authorizeUrl(codeRequest({ prompt: 'login' })));
    expect(isLogin(res)).toBe(true);
    const back = await logInThroughPage(s, jar, String(res.headers.location));
    expect(back.statusCode).toBe(303);
    // back at /authorize: the fresh login satisfies prompt=login, no second login page
    const answer = await get(s, jar, String(back.headers.location));
    const row = await codeRow(answer);
    expect(Math.floor(row.auth_time.getTime() / 1000)).toBeGreaterThan(Math.floor(old!.auth_time.getTime() / 1000));
    // a new session; the one the login replaced has ended
    expect(row.session_id_hash).not.toBe(old!.id_hash);
    expect(await s.ctx.repos.sessions.findActive(oldId)).toBeUndefined();
  });

  it('prompt=select_account acts as prompt=login', async () => {
    expect(isLogin(await get(s, await signedIn(s), authorizeUrl(codeRequest({ prompt: 'select_account' }))))).toBe(true);
  });

  it('an exceeded max_age forces a new login; max_age not exceeded does not', async () => {
    const jar = await signedIn(s, { authTime: new Date(Date.now() - 120_000) });
    expect(redirectParams(await get(s, jar, authorizeUrl(codeRequest({ max_age: '600' })))).params.get('code')).toBeTruthy();
    const res = await get(s, jar, authorizeUrl(codeRequest({ max_age: '60' })));
    expect(isLogin(res)).toBe(true);
    const back = await logInThroughPage(s, jar, String(res.headers.location));
    const row = await codeRow(await get(s, jar, String(back.headers.location)));
    expect(Date.now() - row.auth_time.getTime()).toBeLessThan(10_000);
    expect(row.include_auth_time).toBe(true);
  });

  it('max_age=0 asks for a login once and then answers (no loop)', async () => {
    const jar = await signedIn(s);
    const res = await get(s, jar, authorizeUrl(codeRequest({ max_age: '0' })));
    expect(isLogin(res)).toBe(true);
    const back = await logInThroughPage(s, jar, String(res.headers.location));
    await new Promise((r) => setTimeout(r, 1100));
    expect((await codeRow(await get(s, jar, String(back.headers.location)))).include_auth_time).toBe(true);
  });

  it('a forged _login marker does not let a request skip prompt=login', async () => {
    const jar = await signedIn(s);
    const res = await get(s, jar, `${authorizeUrl(codeRequest({ prompt: 'login' }))}&_login=${Date.now() - 60_000}.${'A'.repeat(43)}`);
    expect(isLogin(res)).toBe(true);
  });

  it('id_token_hint for another user than the signed-in one asks for a login', async () => {
    const bob = await mintIdToken(s.ctx, { client: await web(), sub: BOB.sub, auth_time: 1 });
    expect(isLogin(await get(s, await signedIn(s), authorizeUrl(codeRequest({ id_token_hint: bob }))))).toBe(true);
  });

  it('an expired session counts as none: the login page, and prompt=none is login_required', async () => {
    const jar = await signedIn(s);
    await s.ctx.db.updateTable('login_sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('sub', '=', ALICE.sub).execute();
    expect(isLogin(await get(s, jar, authorizeUrl(codeRequest())))).toBe(true);
    expect(redirectParams(await get(s, jar, authorizeUrl(codeRequest({ prompt: 'none' })))).params.get('error')).toBe('login_required');
  });

  it('no session: the login page, and after it the answer', async () => {
    const jar = new Jar();
    const res = await get(s, jar, authorizeUrl(codeRequest()));
    expect(isLogin(res)).toBe(true);
    const back = await logInThroughPage(s, jar, String(res.headers.location));
    expect((await codeRow(await get(s, jar, String(back.headers.location)))).sub).toBe(ALICE.sub);
  });
});

describe('prompt=consent', () => {
  it('shows the consent page even when the scopes were granted before', async () => {
    const res = await get(s, await signedIn(s), authorizeUrl(codeRequest({ prompt: 'consent' })));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('name="decision"');
  });
});
