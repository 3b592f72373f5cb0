// Screenshot tests of the sign-in pages (issue 10.2): login, consent, device entry and confirm,
// logout and error, at a phone's size (390x844) and a laptop's (1280x800), in light and dark
// (prefers-color-scheme), each with no serious axe-core violation, colour contrast included.
// The screenshots are kept in test-output/screenshots/ (gitignored) for a person to look at.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { codeRequest } from '../authorize/support.js';
import { startDevice } from '../device/helpers.js';
import { launchBrowser, seriousViolations } from '../support/browser.js';
import { ALICE, defaultClients, startTestServer, type TestServer } from '../support/harness.js';

const SHOTS = path.resolve('test-output/screenshots');
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#0e9f6e"/><path d="M18 44 32 16l14 28z" fill="#fff"/></svg>';
const CLIENT_LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#f59e0b"/><circle cx="32" cy="32" r="16" fill="#fff"/></svg>';

let s: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  const dir = path.join(tmpdir(), `brand-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'logo.svg'), LOGO);
  const withMetadata = (id: string, name: string) => ({
    logo_uri: `https://logo.example/${id}.svg`,
    client_uri: `https://${id}.example.com/`,
    policy_uri: `https://${id}.example.com/privacy`,
    tos_uri: `https://${id}.example.com/terms`,
    client_name: name,
  });
  const clients = defaultClients().map((c) =>
    c.client_id === 'web' || c.client_id === 'tv'
      ? { ...c, ...withMetadata(c.client_id, c.client_id === 'web' ? 'Photo Printer' : 'Living Room TV') }
      : c,
  );
  s = await startTestServer({
    listen: true,
    clients,
    env: {
      BRAND_NAME: 'Acme Account',
      BRAND_LOGO_FILE: path.join(dir, 'logo.svg'),
      // a mid-light green: white text on it would fail contrast, so the pages must pick black
      BRAND_PRIMARY_COLOR: '#0e9f6e',
      BRAND_SUPPORT_URL: 'https://help.example.com/',
      BRAND_PRIVACY_URL: 'https://example.com/privacy',
    },
  });
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchBrowser();
  // axe runs as a script in the page, so this context has JavaScript
  context = await browser.newContext();
  // client logos come from their own (https) sites; this machine has no network
  await context.route('https://logo.example/**', (route) => route.fulfill({ contentType: 'image/svg+xml', body: CLIENT_LOGO }));
  page = await context.newPage();
  // signed in through the login page itself
  await page.goto(`${s.issuer}/login`);
  await page.getByLabel('Username').fill(ALICE.username);
  await page.getByLabel('Password').fill(ALICE.password);
  await Promise.all([page.waitForURL(`${s.issuer}/login`), page.getByRole('button', { name: 'Sign in' }).click()]);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

/** Each page, by a URL that shows it to the signed-in person (device confirm needs a fresh code). */
const PAGES: [string, () => Promise<string>][] = [
  ['login', async () => `/login?return_to=${encodeURIComponent(`/authorize?${new URLSearchParams(codeRequest())}`)}`],
  ['consent', async () => `/authorize?${new URLSearchParams(codeRequest({ scope: 'openid profile email offline_access' }))}`],
  ['device-entry', async () => '/device'],
  ['device-confirm', async () => `/device?user_code=${(await startDevice(s)).user_code}`],
  ['logout', async () => '/logout'],
  ['error', async () => '/authorize?client_id=no-such-app&response_type=code'],
];
const VIEWPORTS = { mobile: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const;

for (const [size, viewport] of Object.entries(VIEWPORTS)) {
  for (const colorScheme of ['light', 'dark'] as const) {
    it(`${size}, ${colorScheme}: every page renders with no serious axe-core violation`, async () => {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme });
      for (const [name, url] of PAGES) {
        const response = await page.goto(`${s.issuer}${await url()}`);
        expect(response!.status(), name).toBeLessThan(name === 'error' ? 500 : 400);
        // the brand stylesheet and the client logo loaded (an image that failed has no natural width)
        expect(await page.evaluate<string>("getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()"), name).toBe('#0e9f6e');
        for (const img of await page.locator('img').all()) expect(await img.evaluate((i: { naturalWidth: number }) => i.naturalWidth), name).toBeGreaterThan(0);
        await page.screenshot({ path: path.join(SHOTS, `${name}-${size}-${colorScheme}.png`), fullPage: true });
        expect(await seriousViolations(page), `${name} ${size} ${colorScheme}`).toEqual([]);
      }
    }, 180_000);
  }
}
