// The consent page (INTERFACE.md "Pages"): the client's name and each scope in words, allow /
// deny with CSRF; granted scopes remembered per user and client; skip_consent clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { sha256 } from '../../src/crypto/hash.js';
import { endLoginSession } from '../../src/oauth/backchannel-logout/session-end.js';
import { authorizeUrl, codeRequest, decide, get, onlyForm, post, redirectParams, signedIn, type Jar } from '../authorize/support.js';
import { ALICE, defaultClients, REDIRECT, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
const FIRST_PARTY = clientSchema.parse({
  client_id: 'first-party',
  client_secret: 'first-party-secret-0123456789-0123456789',
  client_name: 'First party app',
  redirect_uris: ['https://first.example.com/cb'],
  grant_types: ['authorization_code'],
  scope: 'openid profile email',
  skip_consent: true,
});

beforeAll(async () => {
  s = await startTestServer({ clients: [...defaultClients(), FIRST_PARTY] });
});
afterAll(async () => s?.close());

/** A person signed in as a user of their own, so that remembered consents do not mix between tests. */
async function freshUser(name: string): Promise<{ jar: Jar; sub: string }> {
  const sub = `${name}-sub`;
  await s.ctx.repos.users.upsert({ username: name, password_hash: 'x', claims: {}, sub });
  return { jar: await signedIn(s, { sub }), sub };
}

describe('the consent page', () => {
  it("lists the client's name and each scope in words, with allow and deny buttons and a CSRF field; never cached", async () => {
    const { jar } = await freshUser('page');
    const req = codeRequest({ scope: 'openid profile email offline_access' });
    const res = await get(s, jar, authorizeUrl(req));
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(res.body).toContain('Test web app');
    for (const words of ['Confirm who you are', 'See your basic profile', 'See your email address', 'Stay signed in']) expect(res.body).toContain(words);
    expect(res.body).toContain('name="decision" value="allow"');
    expect(res.body).toContain('name="decision" value="deny"');
    const form = onlyForm(res.body, s.issuer);
    expect(form.fields._csrf).toBeTruthy();
    expect(form.fields.state).toBe(req.state);
    expect(form.fields.client_id).toBe('web');
  });

  it('names single claims asked for with the claims parameter', async () => {
    const { jar } = await freshUser('claims');
    const res = await get(s, jar, authorizeUrl(codeRequest({ scope: 'openid', claims: JSON.stringify({ userinfo: { phone_number: null } }) })));
    expect(res.body).toContain('phone_number');
  });
});

describe('allow', () => {
  it('answers with a code, and remembers the scopes: the same or fewer skip the page, more show it again', async () => {
    const { jar, sub } = await freshUser('allow');
    const req = codeRequest({ scope: 'openid profile email' });
    const page = await get(s, jar, authorizeUrl(req));
    const res = await decide(s, jar, page.body, 'allow');
    expect(res.statusCode).toBe(303);
    const r = redirectParams(res);
    expect(r.url.origin + r.url.pathname).toBe(REDIRECT);
    expect(r.params.get('code')).toBeTruthy();
    expect(r.params.get('state')).toBe(req.state);
    expect(r.params.get('iss')).toBe(s.issuer);
    expect([...(await s.ctx.repos.consents.find(sub, 'web'))].sort()).toEqual(['email', 'openid', 'profile']);

    for (const scope of ['openid profile email', 'openid email']) {
      const again = await get(s, jar, authorizeUrl(codeRequest({ scope })));
      expect(again.statusCode).toBe(303);
      expect(redirectParams(again).params.get('code')).toBeTruthy();
    }
    const more = await get(s, jar, authorizeUrl(codeRequest({ scope: 'openid phone' })));
    expect(more.statusCode).toBe(200);
    expect(more.body).toContain('See your phone number');
  });

  it('keeps consents apart per client', async () => {
    const { jar } = await freshUser('perclient');
    const page = await get(s, jar, authorizeUrl(codeRequest({ scope: 'openid profile' })));
    await decide(s, jar, page.body, 'allow');
    const spa = await get(s, jar, authorizeUrl(codeRequest({ client_id: 'spa', redirect_uri: 'http://localhost:5173/cb', scope: 'openid profile' })));
    expect(spa.statusCode).toBe(200);
    expect(spa.body).toContain('Test SPA');
  });

  it('never shows the page for a skip_consent client', async () => {
    const { jar } = await freshUser('skip');
    const res = await get(s, jar, authorizeUrl(codeRequest({ client_id: 'first-party', redirect_uri: 'https://first.example.com/cb', scope: 'openid profile email' })));
    expect(res.statusCode).toBe(303);
    expect(redirectParams(res).params.get('code')).toBeTruthy();
  });
  it('shows the page to a skip_consent client only when it asks with prompt=consent (OIDC Core 3.1.2.1)', async () => {
    const { jar } = await freshUser('skipask');
    const res = await get(s, jar, authorizeUrl(codeRequest({ client_id: 'first-party', redirect_uri: 'https://first.example.com/cb', scope: 'openid profile', prompt: 'consent' })));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('First party app');
    expect(res.body).toContain('name="decision" value="allow"');
  });
});

describe('deny', () => {
  it('sends access_denied with state and iss, and remembers nothing', async () => {
    const { jar, sub } = await freshUser('deny');
    const req = codeRequest();
    const page = await get(s, jar, authorizeUrl(req));
    const res = await decide(s, jar, page.body, 'deny');
    expect(res.statusCode).toBe(303);
    const r = redirectParams(res);
    expect(r.params.get('error')).toBe('access_denied');
    expect(r.params.get('error_description')).toBeTruthy();
    expect(r.params.get('state')).toBe(req.state);
    expect(r.params.get('iss')).toBe(s.issuer);
    expect(r.params.get('code')).toBeNull();
    expect((await s.ctx.repos.consents.find(sub, 'web')).size).toBe(0);
  });

  it('delivers access_denied by form_post when the request asked for it', async () => {
    const { jar } = await freshUser('denypost');
    const page = await get(s, jar, authorizeUrl(codeRequest({ response_mode: 'form_post' })));
    const res = await decide(s, jar, page.body, 'deny');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('name="error" value="access_denied"');
  });
});

describe('the consent form cannot be forged', () => {
  it('refuses a post without the CSRF token', async () => {
    const { jar } = await freshUser('csrf');
    const page = await get(s, jar, authorizeUrl(codeRequest()));
    const { _csrf: _ignored, ...fields } = onlyForm(page.body, s.issuer).fields;
    const res = await post(s, jar, '/consent', { ...fields, decision: 'allow' });
    expect(res.statusCode).toBe(403);
    expect(res.headers.location).toBeUndefined();
  });

  it('refuses a form whose request was changed (wider scope)', async () => {
    const { jar, sub } = await freshUser('tamper');
    const page = await get(s, jar, authorizeUrl(codeRequest({ scope: 'openid' })));
    const form = onlyForm(page.body, s.issuer);
    const res = await post(s, jar, '/consent', { ...form.fields, scope: 'openid profile email phone address', decision: 'allow' });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect((await s.ctx.repos.consents.find(sub, 'web')).size).toBe(0);
  });

  it('refuses a form shown to another session (signed out or signed in again since)', async () => {
    const { jar } = await freshUser('moved');
    const page = await get(s, jar, authorizeUrl(codeRequest()));
    await signedIn(s, { sub: ALICE.sub, jar });
    const res = await decide(s, jar, page.body, 'allow');
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('This form has expired');
  });

  it('shows a page when the session ended before the answer', async () => {
    const { jar } = await freshUser('ended');
    const page = await get(s, jar, authorizeUrl(codeRequest()));
    await endLoginSession(s.ctx, sha256(s.app.unsignCookie(jar.cookies.get('session')!).value!));
    const res = await decide(s, jar, page.body, 'allow');
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('no longer signed in');
  });
});
