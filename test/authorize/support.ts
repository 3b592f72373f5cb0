// Helpers for the authorization endpoint and page tests: a cookie jar over app.inject, a login
// session made directly in the database (no argon2 cost) and the parameters of a redirect.
import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { randomToken } from '../../src/crypto/random.js';
import { parseForms, type Form } from '../conformance/support/browser.js';
import { ALICE, REDIRECT, type TestServer } from '../support/harness.js';

export { parseForms, REDIRECT };

/** RFC 6749 §5.2 / §4.1.2.1: error_description characters */
export const ERROR_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

export class Jar {
  readonly cookies = new Map<string, string>();

  take(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies) {
      const expired = c.value === '' || (c.expires !== undefined && c.expires.getTime() < Date.now()) || c.maxAge === 0;
      if (expired) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return res;
  }

  header(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A code request for the `web` client with PKCE, state and nonce; override any field. */
export function codeRequest(over: Record<string, string | undefined> = {}): Record<string, string> {
  const p: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'web',
    redirect_uri: REDIRECT,
    scope: 'openid profile email',
    state: randomToken(12),
    nonce: randomToken(12),
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...over,
  };
  return Object.fromEntries(Object.entries(p).filter((e): e is [string, string] => e[1] !== undefined));
}

export async function get(s: TestServer, jar: Jar, url: string): Promise<LightMyRequestResponse> {
  return jar.take(await s.app.inject({ method: 'GET', url, headers: jar.header() }));
}

export async function post(s: TestServer, jar: Jar, url: string, body: Record<string, string>): Promise<LightMyRequestResponse> {
  return jar.take(
    await s.app.inject({ method: 'POST', url, headers: { ...jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body).toString() }),
  );
}

export function authorizeUrl(params: Record<string, string>): string {
  return `/authorize?${new URLSearchParams(params)}`;
}

/** A live login session for `sub` in the database and its signed cookie in the jar. */
export async function signedIn(s: TestServer, opts: { sub?: string; authTime?: Date; jar?: Jar } = {}): Promise<Jar> {
  const jar = opts.jar ?? new Jar();
  const id = randomToken(32);
  await s.ctx.repos.sessions.create({ id, sub: opts.sub ?? ALICE.sub, auth_time: opts.authTime ?? new Date(), expires_at: new Date(Date.now() + 3_600_000) });
  jar.cookies.set('session', s.app.signCookie(id));
  return jar;
}

/** The parameters a redirect carries to the client: query and fragment together. */
export function redirectParams(res: LightMyRequestResponse): { url: URL; params: URLSearchParams; in: 'query' | 'fragment' } {
  const location = res.headers.location;
  if (typeof location !== 'string') throw new Error(`no redirect (status ${res.statusCode}): ${res.body.slice(0, 300)}`);
  const url = new URL(location, 'http://localhost:3000');
  if (url.hash.length > 1) return { url, params: new URLSearchParams(url.hash.slice(1)), in: 'fragment' };
  return { url, params: url.searchParams, in: 'query' };
}

export function onlyForm(html: string, base = 'http://localhost:3000/'): Form {
  const forms = parseForms(html, base);
  if (forms.length !== 1) throw new Error(`expected one form, found ${forms.length}`);
  return forms[0]!;
}

/** Fills in the login page the server redirected to and follows it back. */
export async function logInThroughPage(s: TestServer, jar: Jar, loginLocation: string, username = ALICE.username, password = ALICE.password): Promise<LightMyRequestResponse> {
  const page = await get(s, jar, loginLocation);
  const form = onlyForm(page.body);
  return post(s, jar, new URL(form.action).pathname, { ...form.fields, username, password });
}

/** Presses a button on the consent page. */
export async function decide(s: TestServer, jar: Jar, consentHtml: string, decision: 'allow' | 'deny'): Promise<LightMyRequestResponse> {
  const form = onlyForm(consentHtml);
  return post(s, jar, new URL(form.action).pathname, { ...form.fields, decision });
}
