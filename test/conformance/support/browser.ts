// A browser without JavaScript for conformance tests: a cookie jar, manual redirects and plain
// HTML forms. It walks the login and consent pages the way a person would, and stops as soon as
// the server sends it anywhere outside the issuer (the client's redirect_uri).
//
//   const b = new Browser(issuer);
//   const cb = await b.authorize(url, { username: ALICE.username, password: ALICE.password });
//   cb.params.get('code')

export interface Page {
  url: string;
  status: number;
  headers: Headers;
  html: string;
}

export interface Form {
  action: string;
  method: string;
  /** hidden and text fields with their values (submit buttons are not included) */
  fields: Record<string, string>;
  /** name=value of each submit button */
  buttons: { name: string; value: string }[];
  html: string;
}

/** Where the server sent the browser outside itself: a redirect, or an auto-submitting form_post. */
export interface Callback {
  url: string;
  params: URLSearchParams;
  via: 'redirect' | 'form_post';
}

export interface AuthorizeOptions {
  username?: string;
  password?: string;
  /** what to press on the consent page; default allow */
  decision?: 'allow' | 'deny';
  /** stop after this many pages (login, consent, ...); default 5 */
  maxSteps?: number;
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>', nbsp: '\u00a0' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1]?.toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e.toLowerCase()] ?? whole;
  });
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!m) return undefined;
  return decodeEntities(m[1] ?? m[2] ?? m[3] ?? '');
}

/** Every <form> of a page, with its action made absolute against the page URL. */
export function parseForms(html: string, base: string): Form[] {
  const forms: Form[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const open = `<form${m[1]}>`;
    const body = m[2]!;
    const fields: Record<string, string> = {};
    const buttons: { name: string; value: string }[] = [];
    for (const i of body.matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(i[0], 'name');
      if (!name) continue;
      const type = (attr(i[0], 'type') ?? 'text').toLowerCase();
      const value = attr(i[0], 'value') ?? '';
      if (type === 'submit') buttons.push({ name, value });
      else if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/i.test(i[0])) continue;
      else fields[name] = value;
    }
    for (const b of body.matchAll(/<button\b[^>]*>/gi)) {
      const name = attr(b[0], 'name');
      if (name) buttons.push({ name, value: attr(b[0], 'value') ?? '' });
    }
    for (const t of body.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
      const name = attr(`<t${t[1]}>`, 'name');
      if (name) fields[name] = decodeEntities(t[2]!);
    }
    forms.push({
      action: new URL(attr(open, 'action') ?? base, base).href,
      method: (attr(open, 'method') ?? 'get').toUpperCase(),
      fields,
      buttons,
      html: m[0],
    });
  }
  return forms;
}

export class Browser {
  /** cookie name -> value; shared by every request of this browser */
  readonly jar = new Map<string, string>();
  /** every URL this browser was sent to, in order */
  readonly history: string[] = [];
  private readonly origin: string;

  constructor(issuer: string) {
    this.origin = new URL(issuer).origin;
  }

  private remember(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a) || (/^\s*expires\s*=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (expired || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** One request, no redirects followed. */
  async request(url: string, init: { method?: string; body?: URLSearchParams; headers?: Record<string, string> } = {}): Promise<Response> {
    this.history.push(url);
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.jar.size) headers.cookie = this.cookieHeader();
    if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: init.method ?? 'GET', body: init.body, headers, redirect: 'manual' });
    this.remember(res);
    return res;
  }

  /**
   * Requests a URL and follows redirects while they stay at the issuer. Returns the page it lands
   * on, or the callback when a redirect leaves the issuer.
   */
  async navigate(url: string, init: { method?: string; body?: URLSearchParams } = {}): Promise<Page | Callback> {
    let res = await this.request(url, init);
    for (let hops = 0; res.status >= 300 && res.status < 400 && res.headers.get('location'); hops++) {
      if (hops > 10) throw new Error(`too many redirects from ${url}`);
      const next = new URL(res.headers.get('location')!, url).href;
      if (new URL(next).origin !== this.origin) return toCallback(next);
      url = next;
      res = await this.request(url);
    }
    return { url, status: res.status, headers: res.headers, html: await res.text() };
  }

  async get(url: string): Promise<Page | Callback> {
    return this.navigate(url);
  }

  /** Submits a form, optionally pressing a named button and overriding fields. */
  async submit(form: Form, values: Record<string, string> = {}, button?: { name: string; value: string }): Promise<Page | Callback> {
    const body = new URLSearchParams({ ...form.fields, ...(button ? { [button.name]: button.value } : {}), ...values });
    if (form.method === 'GET') {
      const u = new URL(form.action);
      u.search = body.toString();
      return this.navigate(u.href);
    }
    return this.navigate(form.action, { method: 'POST', body });
  }

  /**
   * Walks an authorization request to its end: fills the login form, presses allow (or deny) on
   * the consent page, and returns where the server sent the browser: a redirect to the client,
   * or the fields of a form_post page. Throws with the page text when it gets stuck.
   */
  async authorize(url: string, opts: AuthorizeOptions = {}): Promise<Callback> {
    let at = await this.get(url);
    for (let step = 0; step <= (opts.maxSteps ?? 5); step++) {
      if (isCallback(at)) return at;
      const forms = parseForms(at.html, at.url);
      const post = forms.find((f) => new URL(f.action).origin !== this.origin);
      // response_mode=form_post: an auto-submitting form to the client (OAuth 2.0 Form Post Response Mode §2)
      if (post) return { url: post.action, params: new URLSearchParams(post.fields), via: 'form_post' };
      const login = forms.find((f) => 'password' in f.fields || /name=["']?password/i.test(f.html));
      if (login) {
        if (opts.username === undefined || opts.password === undefined) throw new Error(`login page at ${at.url} but no credentials given`);
        at = await this.submit(login, { username: opts.username, password: opts.password });
        continue;
      }
      const consent = forms.find((f) => f.buttons.some((b) => b.name === 'decision'));
      if (consent) {
        const decision = opts.decision ?? 'allow';
        const button = consent.buttons.find((b) => b.name === 'decision' && b.value === decision);
        if (!button) throw new Error(`consent page at ${at.url} has no ${decision} button`);
        at = await this.submit(consent, {}, button);
        continue;
      }
      throw new Error(`stuck at ${at.url} (status ${at.status}): ${textOf(at.html).slice(0, 400)}`);
    }
    throw new Error(`no callback after ${opts.maxSteps ?? 5} pages; last ${isCallback(at) ? at.url : at.url}`);
  }
}

export function isCallback(x: Page | Callback): x is Callback {
  return 'params' in x;
}

function toCallback(url: string): Callback {
  const u = new URL(url);
  // query for response_mode=query, fragment for implicit
  const params = new URLSearchParams(u.search);
  if (u.hash.length > 1) for (const [k, v] of new URLSearchParams(u.hash.slice(1))) params.append(k, v);
  return { url, params, via: 'redirect' };
}

/** The readable text of a page (for error messages and assertions on what a person sees). */
export function textOf(html: string): string {
  return decodeEntities(html.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}
