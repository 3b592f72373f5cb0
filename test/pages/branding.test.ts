// Branding from the environment (BRAND_*), the client's metadata on the consent and device pages
// (RFC 7591 §2; RFC 8628 §5.4: the person sees which client asks before approving), and the
// pages' language: ui_locales, then Accept-Language, then DEFAULT_LOCALE (issue 10.2).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { parseRegistry } from '../../src/config/clients.js';
import { loadEnv } from '../../src/config/env.js';
import { configRefusal } from '../config/refusal.js';
import { authorizeUrl, codeRequest, get, Jar, logInThroughPage, onlyForm, post, signedIn } from '../authorize/support.js';
import { startDevice } from '../device/helpers.js';
import { defaultClients, startTestServer, type TestServer } from '../support/harness.js';

const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>';
const METADATA = {
  logo_uri: 'https://cdn.printer.example/logo.png',
  client_uri: 'https://printer.example/',
  policy_uri: 'https://printer.example/privacy',
  tos_uri: 'https://printer.example/terms',
};

let s: TestServer;
beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brand-'));
  writeFileSync(path.join(dir, 'logo.svg'), LOGO_SVG);
  const clients = defaultClients().map((c) => (c.client_id === 'web' || c.client_id === 'tv' ? { ...c, ...METADATA } : c));
  s = await startTestServer({
    clients,
    env: {
      BRAND_NAME: 'Acme <Account>',
      BRAND_LOGO_FILE: path.join(dir, 'logo.svg'),
      BRAND_PRIMARY_COLOR: '#C0FFEE',
      BRAND_SUPPORT_URL: 'https://help.acme.example/',
      BRAND_PRIVACY_URL: 'https://acme.example/privacy',
    },
  });
});
afterAll(async () => s?.close());

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const stylesheets = (html: string) => [...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((m) => m[1]!);

describe('branding', () => {
  it('shows the product name, the logo and the help and privacy links on every page', async () => {
    for (const url of ['/login', '/device', '/authorize?client_id=nobody']) {
      const page = await s.app.inject(url);
      expect(page.headers['content-type'], url).toMatch(/^text\/html/);
      expect(page.body, url).toContain('Acme &lt;Account&gt;</title>');
      expect(page.body, url).toMatch(/<header class="site-header">\s*<img src="\/assets\/logo\.[0-9a-f]{12}\.svg" alt="">\s*<span>Acme &lt;Account&gt;<\/span>/);
      expect(page.body, url).toContain('<a href="https://help.acme.example/">Help</a>');
      expect(page.body, url).toContain('<a href="https://acme.example/privacy">Privacy</a>');
    }
  });

  it('serves the stylesheets and the logo from this server, by content hash, cached for a year', async () => {
    const page = await s.app.inject('/login');
    const [app, brand] = stylesheets(page.body);
    expect(app).toMatch(/^\/assets\/app\.[0-9a-f]{12}\.css$/);
    expect(brand).toMatch(/^\/assets\/brand\.[0-9a-f]{12}\.css$/);
    const logo = /<img src="(\/assets\/logo\.[^"]+)"/.exec(page.body)![1]!;
    for (const [url, type] of [
      [app!, 'text/css; charset=utf-8'],
      [brand!, 'text/css; charset=utf-8'],
      [logo, 'image/svg+xml'],
    ] as const) {
      const r = await s.app.inject(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toBe(type);
      expect(r.headers['cache-control'], url).toBe('public, max-age=31536000, immutable');
      expect(r.headers['x-content-type-options'], url).toBe('nosniff');
    }
    expect((await s.app.inject(logo)).body).toBe(LOGO_SVG);
    // the primary colour reaches the pages through the brand stylesheet, not an inline style
    expect((await s.app.inject(brand!)).body).toContain('--brand:#c0ffee');
    expect(page.body).not.toMatch(/<style|style=/);
    expect(String(page.headers['content-security-policy'])).toContain("style-src 'self'");
  });

  it('has a default look without any BRAND_ variable, and takes a logo URL', async () => {
    const plain = await startTestServer({ env: { BRAND_LOGO_URL: 'https://static.acme.example/logo.svg' } });
    try {
      const page = await plain.app.inject('/login');
      expect(page.body).toContain('<span>OAuth Server</span>');
      expect(page.body).toContain('<img src="https://static.acme.example/logo.svg" alt="">');
      expect(page.body).not.toContain('<footer');
      const brand = await plain.app.inject(stylesheets(page.body)[1]!);
      expect(brand.body).toContain('--brand:#2557d6');
    } finally {
      await plain.close();
    }
  });
});

describe('the client asking', () => {
  it("consent shows the client's logo, site, privacy policy and terms from the registry", async () => {
    const jar = await signedIn(s);
    const page = await get(s, jar, authorizeUrl(codeRequest()));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<img src="https://cdn.printer.example/logo.png" alt="Logo of Test web app"');
    expect(page.body).toContain('<a href="https://printer.example/">printer.example</a>');
    expect(page.body).toContain('<a href="https://printer.example/privacy">Privacy policy</a>');
    expect(page.body).toContain('<a href="https://printer.example/terms">Terms of service</a>');
    // and the operator's links
    expect(page.body).toContain('<a href="https://acme.example/privacy">Privacy</a>');
    // CSP lets the logo load: images from https (and http on a development server)
    expect(String(page.headers['content-security-policy'])).toMatch(/img-src 'self' data: https: http:/);
  });

  it('a client without that metadata shows no broken image or empty links', async () => {
    const jar = await signedIn(s);
    const page = await get(s, jar, authorizeUrl(codeRequest({ client_id: 'spa', redirect_uri: 'http://localhost:5173/cb' })));
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<img src="http');
    expect(page.body).not.toContain('Privacy policy');
    expect(page.body).toContain('<span class="initial" aria-hidden="true">T</span>');
  });

  it('the device page names the client, with its logo and site, before the person approves (RFC 8628 §5.4)', async () => {
    const jar = await signedIn(s);
    const { user_code } = await startDevice(s);
    const page = await get(s, jar, `/device?user_code=${user_code}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/name="decision"\s+value="allow"/);
    expect(page.body).toContain('<p class="name">Test TV</p>');
    expect(page.body).toContain('<img src="https://cdn.printer.example/logo.png" alt="Logo of Test TV"');
    expect(page.body).toContain('<a href="https://printer.example/">printer.example</a>');
    expect(text(page.body)).toContain(`Only allow this if you started it yourself, on a device in front of you, and it shows ${user_code}`);
  });

  it('a production server allows https images only', async () => {
    const prod = await startTestServer({ env: { ISSUER: 'https://login.acme.example' } });
    try {
      const csp = String((await prod.app.inject('/login')).headers['content-security-policy']);
      expect(csp).toContain("img-src 'self' data: https:;");
      expect(csp).not.toContain('http:');
    } finally {
      await prod.close();
    }
  });
});

describe('the language of the pages', () => {
  const lang = (html: string) => /<html lang="(\w+)">/.exec(html)?.[1];

  it('follows ui_locales through the login page and onto consent, before Accept-Language', async () => {
    const jar = new Jar();
    const start = jar.take(
      await s.app.inject({ url: authorizeUrl(codeRequest({ ui_locales: 'de fr', scope: 'openid email' })), headers: { 'accept-language': 'en' } }),
    );
    expect(start.statusCode).toBe(303);
    const login = await s.app.inject({ url: start.headers.location!, headers: { 'accept-language': 'en' } });
    expect(lang(login.body)).toBe('fr');
    expect(login.body).toContain('<label for="username">Nom d’utilisateur</label>');
    expect(login.body).toContain('<button type="submit">Se connecter</button>');
    expect(text(login.body)).toContain('pour continuer vers Test web app');
    // signed in: the consent page, still French (its hidden fields carry ui_locales on)
    const back = await logInThroughPage(s, jar, start.headers.location!);
    const consent = await get(s, jar, back.headers.location!);
    expect(lang(consent.body)).toBe('fr');
    expect(consent.body).toContain('Voir votre adresse e-mail');
    expect(consent.body).toMatch(/value="allow">Autoriser<\/button>/);
    // a refusal on its form speaks French too
    const form = onlyForm(consent.body);
    const refused = await post(s, jar, '/consent', { ...form.fields, decision: 'maybe' });
    expect(refused.statusCode).toBe(400);
    expect(lang(refused.body)).toBe('fr');
    expect(refused.body).toContain('Choisissez Autoriser ou Refuser');
  });

  it('follows Accept-Language without ui_locales, and DEFAULT_LOCALE without either', async () => {
    const fr = await s.app.inject({ url: '/device', headers: { 'accept-language': 'fr-CH, fr;q=0.9, en;q=0.8' } });
    expect(lang(fr.body)).toBe('fr');
    expect(fr.body).toContain('Connecter un appareil');
    const en = await s.app.inject('/device');
    expect(lang(en.body)).toBe('en');
    expect(en.body).toContain('Connect a device');
    const french = await startTestServer({ env: { DEFAULT_LOCALE: 'fr' } });
    try {
      expect(lang((await french.app.inject('/login')).body)).toBe('fr');
      expect(lang((await french.app.inject({ url: '/login', headers: { 'accept-language': 'de, en;q=0.5' } })).body)).toBe('en');
      // ui_locales naming only languages we lack falls through to Accept-Language
      const unknown = await french.app.inject({ url: '/logout?ui_locales=de', headers: { 'accept-language': 'en' } });
      expect(lang(unknown.body)).toBe('en');
    } finally {
      await french.close();
    }
  });

  it('keeps the ui_locales of a logout request (RP-Initiated Logout §2) from the question to the signed-out page', async () => {
    const jar = await signedIn(s);
    const question = await get(s, jar, '/logout?client_id=web&ui_locales=fr');
    expect(lang(question.body)).toBe('fr');
    expect(question.body).toContain('Voulez-vous vous déconnecter ?');
    const form = onlyForm(question.body);
    const done = await post(s, jar, new URL(form.action).pathname, { ...form.fields, logout: 'yes' });
    expect(done.statusCode).toBe(200);
    expect(lang(done.body)).toBe('fr');
    expect(text(done.body)).toContain('Vous pouvez revenir à Test web app');
  });

  it('translates error pages, the CSRF refusal included', async () => {
    const unknown = await s.app.inject({ url: '/authorize?client_id=nobody', headers: { 'accept-language': 'fr' } });
    expect(unknown.statusCode).toBe(400);
    expect(lang(unknown.body)).toBe('fr');
    expect(unknown.body).toContain('Application inconnue');
    expect(unknown.body).toContain('« nobody »');
    const csrf = await s.app.inject({ method: 'POST', url: '/login', headers: { 'accept-language': 'fr', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=a&password=b' });
    expect(csrf.statusCode).toBe(403);
    expect(csrf.body).toContain('Ce formulaire a expiré');
  });

  it('advertises ui_locales_supported in discovery', async () => {
    expect((await s.app.inject('/.well-known/openid-configuration')).json().ui_locales_supported).toEqual(['en', 'fr']);
  });
});

describe('settings that stop the start', () => {
  const refusal = (env: NodeJS.ProcessEnv) => configRefusal(() => loadEnv(env), 'the environment');

  it('refuses a primary colour that is not a CSS hex colour, and an unknown DEFAULT_LOCALE', () => {
    expect(refusal({ BRAND_PRIMARY_COLOR: 'red' })).toBe('environment: BRAND_PRIMARY_COLOR: must be a hex colour like #1f6feb');
    expect(refusal({ BRAND_PRIMARY_COLOR: '#12345g' })).toContain('BRAND_PRIMARY_COLOR');
    expect(refusal({ BRAND_PRIMARY_COLOR: '#123;}body{x:y' })).toContain('BRAND_PRIMARY_COLOR');
    expect(refusal({ DEFAULT_LOCALE: 'de' })).toBe('environment: DEFAULT_LOCALE: must be one of en, fr');
  });

  it('refuses a logo URL and file together, a logo that is not an image, links that are not http(s)', () => {
    expect(refusal({ BRAND_LOGO_URL: 'https://a.example/l.png', BRAND_LOGO_FILE: 'l.png' })).toContain('BRAND_LOGO_FILE: set BRAND_LOGO_URL or BRAND_LOGO_FILE, not both');
    expect(refusal({ BRAND_LOGO_FILE: 'logo.html' })).toContain('BRAND_LOGO_FILE: must be a .svg, .png, .jpg, .webp or .gif file');
    expect(refusal({ BRAND_PRIVACY_URL: 'javascript:alert(1)' })).toContain('BRAND_PRIVACY_URL: must be an http(s) URL');
    expect(refusal({ BRAND_SUPPORT_URL: 'javascript:alert(1)' })).toContain('BRAND_SUPPORT_URL');
    expect(loadEnv({ BRAND_SUPPORT_URL: 'mailto:help@acme.example' }).BRAND_SUPPORT_URL).toBe('mailto:help@acme.example');
  });

  it('refuses an http logo URL in production', () => {
    const prod = { NODE_ENV: 'production', ISSUER: 'https://id.example', SECRET_KEY: 'k'.repeat(32) };
    expect(refusal({ ...prod, BRAND_LOGO_URL: 'http://a.example/l.png' })).toBe('environment: BRAND_LOGO_URL must be https:// in production');
    expect(loadEnv({ ...prod, BRAND_LOGO_URL: 'https://a.example/l.png' }).BRAND_LOGO_URL).toBe('https://a.example/l.png');
  });

  it("refuses a client's logo_uri, client_uri, policy_uri or tos_uri that is not http(s), and http in production", () => {
    const registry = (extra: Record<string, string>, production = false) => () =>
      parseRegistry(JSON.stringify({ clients: [{ client_id: 'tv', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], ...extra }] }), 'clients.json', { production, env: {} });
    for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri']) {
      expect(configRefusal(registry({ [field]: 'javascript:alert(1)' }), field)).toBe(`clients.json: clients[0].${field}: must be an http(s) URL`);
      expect(configRefusal(registry({ [field]: 'http://tv.example/x' }, true), field)).toBe(`clients.json: clients[0].${field}: must be https in production`);
      expect(registry({ [field]: 'https://tv.example/x' }, true)()[0]).toMatchObject({ [field]: 'https://tv.example/x' });
    }
  });

  it('names a logo file it cannot read', async () => {
    const env = loadEnv({ BRAND_LOGO_FILE: '/nonexistent/logo.png', LOG_LEVEL: 'silent' });
    await expect(buildApp({ ...s.ctx, env }, { logger: false })).rejects.toThrow('environment: BRAND_LOGO_FILE: cannot read /nonexistent/logo.png (ENOENT)');
  });
});
