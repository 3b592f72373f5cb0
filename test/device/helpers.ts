// Helpers for the device flow tests: start a request, drive the database where only time would
// (poll spacing, expiry), and speak to /token and /device_authorization like a device does.
import { sql } from 'kysely';
import type { AppContext } from '../../src/context.js';
import { sha256 } from '../../src/crypto/hash.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../src/oauth/device/device-authorization.js';
import { normaliseUserCode } from '../../src/oauth/device/user-code.js';
import { ALICE, type TestServer } from '../support/harness.js';

export { DEVICE_CODE_GRANT_TYPE };

export const form = (s: TestServer, url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(body).toString() });

export interface DeviceStart {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** POST /device_authorization as the public `tv` client (or another), expecting success. */
export async function startDevice(s: TestServer, body: Record<string, string> = {}): Promise<DeviceStart> {
  const r = await form(s, '/device_authorization', { client_id: 'tv', ...body });
  if (r.statusCode !== 200) throw new Error(`device_authorization answered ${r.statusCode}: ${r.body}`);
  return r.json() as DeviceStart;
}

/** One poll at /token (RFC 8628 §3.4). */
export const poll = (s: TestServer, device_code: string, extra: Record<string, string> = {}) =>
  form(s, '/token', { grant_type: DEVICE_CODE_GRANT_TYPE, device_code, client_id: 'tv', ...extra });

/** Test-only: pretend the last poll was `seconds` ago, so the next one is not too fast. */
export async function lastPolledAgo(ctx: AppContext, device_code: string, seconds: number): Promise<void> {
  await ctx.db
    .updateTable('device_codes')
    .set({ last_polled_at: sql`now() - make_interval(secs => ${seconds})` })
    .where('device_code_hash', '=', sha256(device_code))
    .execute();
}

/** Test-only: move the request's expiry into the past. */
export async function expire(ctx: AppContext, device_code: string): Promise<void> {
  await ctx.db
    .updateTable('device_codes')
    .set({ expires_at: sql`now() - interval '1 second'` })
    .where('device_code_hash', '=', sha256(device_code))
    .execute();
}

export async function rowOf(ctx: AppContext, device_code: string) {
  return ctx.db.selectFrom('device_codes').selectAll().where('device_code_hash', '=', sha256(device_code)).executeTakeFirstOrThrow();
}

/** Approve (or deny) straight through the repository, as the /device page does. */
export async function decide(ctx: AppContext, user_code: string, approved: boolean, sub = ALICE.sub, auth_time = new Date(Math.floor(Date.now() / 1000 - 20) * 1000)) {
  const code = normaliseUserCode(user_code);
  const row = await ctx.repos.deviceCodes.findPendingByUserCode(code);
  if (!row) throw new Error(`no pending request for ${user_code}`);
  return ctx.repos.deviceCodes.decide(code, approved ? { approved: true, sub, auth_time, granted_scope: row.scope } : { approved: false });
}

/**
 * A browser over app.inject: a cookie jar, no redirects followed, forms read from the HTML. Pages
 * are driven the way a person would (no JavaScript). `ip` is the remote address it comes from.
 */
export class PageClient {
  readonly jar = new Map<string, string>();
  constructor(
    private readonly s: TestServer,
    readonly ip = '203.0.113.7',
  ) {}

  private remember(setCookie: string | string[] | undefined): void {
    for (const c of [setCookie ?? []].flat()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === '' || /max-age=0\b|expires=Thu, 01 Jan 1970/i.test(c)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  private headers(): Record<string, string> {
    return this.jar.size ? { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }

  async get(url: string) {
    const r = await this.s.app.inject({ method: 'GET', url, headers: this.headers(), remoteAddress: this.ip });
    this.remember(r.headers['set-cookie']);
    return r;
  }

  async post(url: string, fields: Record<string, string>) {
    const r = await this.s.app.inject({
      method: 'POST',
      url,
      headers: { ...this.headers(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields).toString(),
      remoteAddress: this.ip,
    });
    this.remember(r.headers['set-cookie']);
    return r;
  }

  /** Submits the first form of a page with its own fields (hidden ones, prefilled values) plus `values`. */
  async submit(html: string, values: Record<string, string> = {}) {
    const form = formOf(html);
    return this.post(form.action, { ...form.fields, ...values });
  }

  /** Signs in through the login page (fields username, password and the form's _csrf). */
  async signIn(username = ALICE.username, password = ALICE.password, returnTo?: string) {
    const page = await this.get(returnTo ? `/login?return_to=${encodeURIComponent(returnTo)}` : '/login');
    if (page.statusCode !== 200) throw new Error(`login page answered ${page.statusCode}`);
    return this.submit(page.body, { username, password });
  }
}

const decodeEntities = (v: string) => v.replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d))).replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The first form of a page: its action and the values of its non-button inputs. */
export function formOf(html: string): { action: string; fields: Record<string, string>; html: string } {
  const m = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!m) throw new Error(`no form on the page: ${html.slice(0, 300)}`);
  const attr = (tag: string, name: string) => {
    const a = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
    return a ? decodeEntities(a[1]!) : undefined;
  };
  const fields: Record<string, string> = {};
  for (const i of m[2]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(i[0], 'name');
    const type = attr(i[0], 'type') ?? 'text';
    if (name && type !== 'submit') fields[name] = attr(i[0], 'value') ?? '';
  }
  return { action: attr(`<form${m[1]}>`, 'action') ?? '', fields, html: m[0] };
}

/** What a person reads on a page. */
export function textOf(html: string): string {
  return decodeEntities(html.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}
