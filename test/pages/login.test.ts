// The login page (INTERFACE.md "Pages"): the form, CSRF, the session it starts, the answers to
// wrong credentials (the same for unknown users), lockout and the rate limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCredentials } from '../../src/authentication/credentials.js';
import { LOGIN_RATE_LIMIT } from '../../src/routes/login.js';
import { get, Jar, onlyForm, parseForms, post } from '../authorize/support.js';
import { ALICE, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

/** The page without its per-response CSRF token, to compare two answers. */
const withoutCsrf = (html: string) => html.replace(/name="_csrf" value="[^"]*"/, 'name="_csrf"');

async function loginForm(jar: Jar, query = '') {
  const page = await get(s, jar, `/login${query}`);
  return { page, form: onlyForm(page.body, s.issuer) };
}

describe('the login form', () => {
  it('has username, password, one submit button, a hidden CSRF field and labels; never cached nor framed', async () => {
    const { page, form } = await loginForm(new Jar(), '?return_to=%2Fdevice');
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(form.method).toBe('POST');
    expect(form.fields._csrf).toBeTruthy();
    expect(form.fields.return_to).toBe('/device');
    expect(page.body).toMatch(/<input[^>]*name="username"/);
    expect(page.body).toMatch(/<input[^>]*name="password"[^>]*type="password"|<input[^>]*type="password"[^>]*name="password"/);
    expect(page.body.match(/type="submit"/g)).toHaveLength(1);
    for (const id of ['username', 'password']) {
      expect(page.body).toContain(`<label for="${id}">`);
      expect(page.body).toMatch(new RegExp(`<input[^>]*id="${id}"`));
    }
  });

  it('fills in the username from login_hint, escaped', async () => {
    const { form } = await loginForm(new Jar(), `?login_hint=${encodeURIComponent('alice"><script>')}`);
    expect(form.fields.username).toBe('alice"><script>');
    expect((await get(s, new Jar(), `/login?login_hint=${encodeURIComponent('"><script>')}`)).body).not.toContain('"><script>');
  });

  it('ignores a login_hint too long to prefill, and still goes back to the authorization request', async () => {
    const returnTo = '/authorize?client_id=web&response_type=code';
    const { form } = await loginForm(new Jar(), `?${new URLSearchParams({ return_to: returnTo, login_hint: 'a'.repeat(300) })}`);
    expect(form.fields.return_to).toBe(returnTo);
    expect(form.fields.username).toBe('');
  });

  it('names the application when the person comes from an authorization request', async () => {
    const { page } = await loginForm(new Jar(), `?return_to=${encodeURIComponent('/authorize?client_id=web&response_type=code')}`);
    expect(page.body).toContain('Test web app');
  });
});

describe('signing in', () => {
  it('starts a session (HttpOnly, SameSite=Lax cookie; row in the database) and goes back to return_to', async () => {
    const jar = new Jar();
    const { form } = await loginForm(jar, `?return_to=${encodeURIComponent('/device?user_code=ABCD-EFGH')}`);
    const res = await post(s, jar, '/login', { ...form.fields, username: ALICE.username, password: ALICE.password });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/device?user_code=ABCD-EFGH');
    const cookie = res.cookies.find((c) => c.name === 'session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    expect(cookie.secure).toBeFalsy();
    const id = s.app.unsignCookie(cookie.value);
    expect(id.valid).toBe(true);
    // 256 random bits, base64url
    expect(id.value).toMatch(/^[\w-]{43}$/);
    const session = await s.ctx.repos.sessions.findActive(id.value!);
    expect(session?.sub).toBe(ALICE.sub);
    // sessions expire: the row and the cookie after LOGIN_SESSION_TTL
    const ttl = s.ctx.env.LOGIN_SESSION_TTL * 1000;
    expect(Math.abs(session!.expires_at.getTime() - (Date.now() + ttl))).toBeLessThan(60_000);
    expect(Math.abs(cookie.expires!.getTime() - session!.expires_at.getTime())).toBeLessThan(1_000);
  });

  it('never sends the person to another site: unsafe return_to values are ignored', async () => {
    for (const unsafe of ['//evil.example.com/x', '/\\evil.example.com', 'https://evil.example.com/', '/\t/evil.example.com', 'evil']) {
      const jar = new Jar();
      const { form } = await loginForm(jar);
      const res = await post(s, jar, '/login', { ...form.fields, return_to: unsafe, username: ALICE.username, password: ALICE.password });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/login');
    }
  });

  it('shows who is signed in when the page is opened directly afterwards', async () => {
    const jar = new Jar();
    const { form } = await loginForm(jar);
    await post(s, jar, '/login', { ...form.fields, username: ALICE.username, password: ALICE.password });
    expect((await get(s, jar, '/login')).body).toContain('You are signed in as <strong>alice</strong>');
  });

  it('refuses a post without the CSRF token with a readable page', async () => {
    const jar = new Jar();
    await loginForm(jar);
    const res = await post(s, jar, '/login', { username: ALICE.username, password: ALICE.password });
    expect(res.statusCode).toBe(403);
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
    expect(res.body).toContain('This form has expired');
    expect(res.cookies.find((c) => c.name === 'session')).toBeUndefined();
  });

  it('refuses a CSRF token from another browser', async () => {
    const { form } = await loginForm(new Jar());
    const other = new Jar();
    await loginForm(other);
    const res = await post(s, other, '/login', { ...form.fields, username: ALICE.username, password: ALICE.password });
    expect(res.statusCode).toBe(403);
  });
});

describe('wrong credentials', () => {
  it('shows the form again with a generic message, and an unknown user gets the very same answer', async () => {
    const other = await startTestServer();
    try {
      const answer = async (username: string) => {
        const jar = new Jar();
        const page = await get(other, jar, '/login?return_to=%2Fdevice');
        const form = onlyForm(page.body, other.issuer);
        return post(other, jar, '/login', { ...form.fields, username, password: 'not-the-password' });
      };
      const wrong = await answer(ALICE.username);
      const unknown = await answer('nobody-here');
      expect(wrong.statusCode).toBe(200);
      expect(wrong.body).toContain('Wrong username or password');
      expect(wrong.cookies.find((c) => c.name === 'session')).toBeUndefined();
      expect(unknown.statusCode).toBe(wrong.statusCode);
      expect(withoutCsrf(unknown.body).replace('nobody-here', 'X')).toBe(withoutCsrf(wrong.body).replace(`value="${ALICE.username}"`, 'value="X"'));
      expect(parseForms(wrong.body, other.issuer)[0]!.fields.return_to).toBe('/device');
    } finally {
      await other.close();
    }
  });

  it('says sign-in is locked, for how long, and refuses even the right password while locked', async () => {
    const other = await startTestServer();
    try {
      // app.inject comes from 127.0.0.1: lock Alice's pair with that address
      await checkCredentials(other.ctx, ALICE.username, 'not-the-password', '127.0.0.1');
      await other.ctx.repos.loginAttempts.lock(ALICE.username, '127.0.0.1', 'pair', other.ctx.env.LOGIN_LOCK_SECONDS);
      const jar = new Jar();
      const form = onlyForm((await get(other, jar, '/login')).body, other.issuer);
      const res = await post(other, jar, '/login', { ...form.fields, username: ALICE.username, password: ALICE.password });
      expect(res.statusCode).toBe(429);
      expect(res.body).toContain(`sign-in is locked for ${other.ctx.env.LOGIN_LOCK_SECONDS / 60} minutes`);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.cookies.find((c) => c.name === 'session')).toBeUndefined();
      // the form is there to try again later
      expect(res.body).toMatch(/name="password"/);
    } finally {
      await other.close();
    }
  });

  it('locks repeated failures for one username from one address, the same for a username that does not exist', async () => {
    // the per-username slow-down stays out of this test (its own test records the waits)
    const other = await startTestServer({ env: { LOGIN_SLOW_AFTER: '1000' } });
    try {
      const { LOGIN_LOCK_AFTER, LOGIN_LOCK_SECONDS } = other.ctx.env;
      // one failure short of the lock from the address app.inject uses, counted as failed logins count them
      for (const username of [ALICE.username, 'nobody-here'])
        for (let i = 1; i < LOGIN_LOCK_AFTER; i++) expect(await checkCredentials(other.ctx, username, 'not-the-password', '127.0.0.1')).toEqual({ ok: false, reason: 'invalid' });
      const attempt = async (username: string, password: string) => {
        const jar = new Jar();
        const form = onlyForm((await get(other, jar, '/login')).body, other.issuer);
        return post(other, jar, '/login', { ...form.fields, username, password });
      };
      const [known, unknown] = await Promise.all([attempt(ALICE.username, 'not-the-password'), attempt('nobody-here', 'not-the-password')]);
      for (const res of [known, unknown]) {
        expect(res.statusCode).toBe(429);
        expect(res.body).toContain(`sign-in is locked for ${LOGIN_LOCK_SECONDS / 60} minutes`);
      }
      expect(withoutCsrf(unknown.body).replace('nobody-here', 'X')).toBe(withoutCsrf(known.body).replace(`value="${ALICE.username}"`, 'value="X"'));
      // locked: even the right password is refused, at once
      const right = await attempt(ALICE.username, ALICE.password);
      expect(right.statusCode).toBe(429);
      expect(right.cookies.find((c) => c.name === 'session')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('spends as long on an unknown username as on a wrong password (argon2id against a dummy hash)', async () => {
    // no per-username slow-down here: this test times the password check alone
    const other = await startTestServer({ env: { LOGIN_SLOW_AFTER: '1000' } });
    try {
      const time = async (username: string, i: number) => {
        const started = process.hrtime.bigint();
        const r = await checkCredentials(other.ctx, username, 'not-the-password', `192.0.2.${i}`);
        expect(r.ok).toBe(false);
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      await time('warm-up', 0);
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let i = 1; i <= 5; i++) {
        wrong.push(await time(ALICE.username, i));
        unknown.push(await time(`nobody-${i}`, i + 10));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
      // an argon2id verify costs tens of milliseconds; a lookup that finds nobody, one or two
      expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.6);
    } finally {
      await other.close();
    }
  });

  it('asks for both fields when one is empty', async () => {
    const jar = new Jar();
    const { form } = await loginForm(jar);
    const res = await post(s, jar, '/login', { ...form.fields, username: ALICE.username, password: '' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Enter your username and password');
  });
});

describe('rate limit', () => {
  it(`answers POST /login with 429 and a page after ${LOGIN_RATE_LIMIT.max} attempts a minute from one address`, async () => {
    const other = await startTestServer();
    try {
      let last;
      for (let i = 0; i <= LOGIN_RATE_LIMIT.max; i++) last = await other.app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=a&password=b' });
      expect(last!.statusCode).toBe(429);
      expect(String(last!.headers['content-type'])).toMatch(/^text\/html/);
    } finally {
      await other.close();
    }
  });
});

describe('https issuer', () => {
  it('marks the session cookie Secure with the __Host- prefix', async () => {
    const other = await startTestServer({ env: { ISSUER: 'https://login.example.com' } });
    try {
      const jar = new Jar();
      const page = await get(other, jar, '/login');
      const form = onlyForm(page.body, other.issuer);
      // cookies set for Secure origins travel over https only; inject does not care
      const res = await post(other, jar, '/login', { ...form.fields, username: ALICE.username, password: ALICE.password });
      const cookie = res.cookies.find((c) => c.name === '__Host-session')!;
      expect(cookie.secure).toBe(true);
      expect(cookie.path).toBe('/');
    } finally {
      await other.close();
    }
  });
});
