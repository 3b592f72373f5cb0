// The playground in a real browser (issue 10.1): every flow runs to its end against the demo
// registry (config/clients.json, whose playground redirect URIs name ${ISSUER}), and the page
// shows each HTTP step in order, with secrets masked and tokens decoded and checked against the
// JWKS. Server-side flows run with JavaScript off; the SPA needs it and passes axe-core.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/clients.js';
import { launchBrowser, seriousViolations } from '../support/browser.js';
import { ALICE, startTestServer, type TestServer } from '../support/harness.js';

const registry = (issuer: string) => loadRegistry('config/clients.json', { production: false, env: { ISSUER: issuer } });
const secrets = registry('http://x').flatMap((c) => (c.client_secret ? [c.client_secret] : []));

let s: TestServer;
let browser: Browser;
let noJs: BrowserContext;
let page: Page;
beforeAll(async () => {
  s = await startTestServer({ listen: true, clients: registry });
  browser = await launchBrowser();
  noJs = await browser.newContext({ javaScriptEnabled: false });
  page = await noJs.newPage();
  page.setDefaultTimeout(30_000);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

/** The headings of the steps shown, in order: "n. title: from → to". */
const steps = (p: Page) => p.locator('ol.steps > li h3').allInnerTexts();
const tokenSignature = (p: Page, name: string) => p.locator(`section.token[aria-label="${name}"] .signature`).innerText();

async function signIn(p: Page) {
  await p.getByLabel('Username').fill(ALICE.username);
  await p.getByLabel('Password').fill(ALICE.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

/** Secrets never appear on the page; codes and tokens only in part. */
async function expectMasked(p: Page) {
  const html = await p.content();
  for (const secret of [...secrets, ALICE.password]) expect(html).not.toContain(secret);
}

describe('server-side flows, JavaScript off', () => {
  it('authorization code + PKCE (web app): sign in, consent, the app exchanges the code, then refresh, userinfo, introspection, revocation and logout', async () => {
    await page.goto(`${s.issuer}/playground/web`);
    await page.getByRole('button', { name: 'Start the flow' }).click();
    await signIn(page);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${s.issuer}/playground/web#run`);
    expect(await steps(page)).toEqual([
      '1. Authorization request: Browser → Authorization server',
      '2. Authorization response: Authorization server → App (the playground)',
      '3. Token request (authorization code): App (the playground) → Authorization server',
      '4. Signing keys (JWKS): App (the playground) → Authorization server',
    ]);
    const tokenStep = page.locator('ol.steps > li').nth(2);
    await expect.poll(() => tokenStep.innerText()).toMatch(/Response: 200/);
    expect(await tokenStep.innerText()).toMatch(/authorization\s+Basic \S{8}…\(\d+ characters\)/);
    expect(await tokenStep.innerText()).toMatch(/code_verifier\s+\S{8}…\(43 characters\)/);
    expect(await page.locator('ol.steps > li').nth(1).innerText()).toContain('state and iss match');
    expect(await tokenSignature(page, 'id_token')).toMatch(/valid: signed with RS256|valid: signed with ES256/);
    expect(await tokenSignature(page, 'access_token')).toMatch(/^Signature checked against the JWKS: valid/);
    expect(await page.locator('section.token[aria-label="id_token"]').innerText()).toContain('when the user signed in');
    await expectMasked(page);

    for (const [button, title] of [
      ['Refresh the tokens', 'Token request (refresh): App (the playground) → Authorization server'],
      ['Call UserInfo with the access token', 'UserInfo request: App (the playground) → API (resource server)'],
      ['Introspect the access token (as the API)', 'Token introspection: API (resource server) → Authorization server'],
      ['Revoke the refresh token', 'Token revocation: App (the playground) → Authorization server'],
      ['Introspect the access token (as the API)', 'Token introspection: API (resource server) → Authorization server'],
    ] as const) {
      const before = (await steps(page)).length;
      await page.getByRole('button', { name: button }).click();
      await page.waitForURL(`${s.issuer}/playground/web#run`);
      await expect.poll(async () => (await steps(page)).length).toBe(before + 1);
      expect((await steps(page)).at(-1)).toBe(`${before + 1}. ${title}`);
    }
    const texts = await page.locator('ol.steps > li').allInnerTexts();
    expect(texts.at(-5)).toMatch(/Response: 200/); // refresh
    expect(texts.at(-4)).toContain('"email": "alice@example.com"'); // userinfo
    expect(texts.at(-3)).toContain('"active": true');
    // RFC 7009: revoking the refresh token ends the grant, its access tokens included
    expect(texts.at(-1)).toContain('"active": false');

    await page.getByRole('button', { name: 'Log out (RP-initiated)' }).click();
    await page.waitForURL(`${s.issuer}/playground/web#run`);
    expect((await steps(page)).slice(-2)).toEqual([
      '10. Logout request (RP-initiated): Browser → Authorization server',
      '11. Back after logout: Authorization server → App (the playground)',
    ]);
    expect(await page.locator('ol.steps > li').last().innerText()).toContain('the session at the server has ended');
    await expectMasked(page);
  }, 120_000);

  it('implicit ID token with form_post: the form posts the ID token to the playground, which checks nonce and signature', async () => {
    await page.goto(`${s.issuer}/playground/implicit`);
    await page.getByRole('button', { name: 'Start the flow' }).click();
    await signIn(page); // logged out by the previous test
    await page.getByRole('button', { name: 'Allow' }).click();
    // JavaScript is off: the form_post page offers a button instead of submitting itself
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${s.issuer}/playground/implicit#run`);
    expect(await steps(page)).toEqual([
      '1. Authentication request (implicit, form_post): Browser → Authorization server',
      '2. Authorization response (form_post): Authorization server → App (the playground)',
      '3. Signing keys (JWKS): App (the playground) → Authorization server',
    ]);
    expect(await page.locator('ol.steps > li').nth(1).innerText()).toContain('the ID token carries the nonce the app sent');
    expect(await page.locator('ol.steps > li').nth(1).innerText()).toMatch(/id_token\s+\S{8}…\(\d+ characters\)/);
    expect(await tokenSignature(page, 'id_token')).toMatch(/: valid: signed/);
  }, 120_000);

  it('client credentials: one token request, the access token decoded', async () => {
    await page.goto(`${s.issuer}/playground/client-credentials`);
    await page.getByRole('button', { name: 'Start the flow' }).click();
    await page.waitForURL(`${s.issuer}/playground/client-credentials#run`);
    expect(await steps(page)).toEqual(['1. Token request (client credentials): App (the playground) → Authorization server', '2. Signing keys (JWKS): App (the playground) → Authorization server']);
    expect(await tokenSignature(page, 'access_token')).toMatch(/: valid: signed/);
    expect(await page.locator('section.token[aria-label="access_token"]').innerText()).toContain('https://api.example.com');
    expect(await page.locator('ol.steps > li').first().innerText()).toMatch(/authorization\s+Basic \S{8}…\(\d+ characters\)/);
    await expectMasked(page);
  }, 60_000);

  it('password: the password is never shown', async () => {
    await page.goto(`${s.issuer}/playground/password`);
    await page.getByLabel('Username').fill(ALICE.username);
    await page.getByLabel('Password').fill(ALICE.password);
    await page.getByRole('button', { name: 'Start the flow' }).click();
    await page.waitForURL(`${s.issuer}/playground/password#run`);
    expect(await steps(page)).toEqual(['1. Token request (password): App (the playground) → Authorization server', '2. Signing keys (JWKS): App (the playground) → Authorization server']);
    const step = await page.locator('ol.steps > li').first().innerText();
    expect(step).toMatch(/password\s+••••••••/);
    expect(step).toMatch(/client_secret\s+••••••••/);
    expect(step).toContain('RFC 9700 §2.4');
    await expectMasked(page);
  }, 60_000);

  it('device authorization: the device side here, the approval in a second tab, then polling gets the tokens', async () => {
    await page.goto(`${s.issuer}/playground/device`);
    await page.getByRole('button', { name: 'Start the flow' }).click();
    await page.waitForURL(`${s.issuer}/playground/device#run`);
    const userCode = await page.locator('#user-code').innerText();
    expect(userCode).toMatch(/^[A-Z0-9]{4}-?[A-Z0-9]{4}$/);
    // before approval the token endpoint says authorization_pending (RFC 8628 §3.5)
    await page.getByRole('button', { name: 'Poll the token endpoint' }).click();
    await page.waitForURL(`${s.issuer}/playground/device#run`);
    expect(await page.locator('ol.steps > li').last().innerText()).toContain('authorization_pending');

    const [tab] = await Promise.all([noJs.waitForEvent('page'), page.locator('#verification-link').click()]);
    tab!.setDefaultTimeout(30_000);
    await tab!.waitForLoadState();
    // verification_uri_complete: the code is prefilled; signed in, the person goes straight to
    // consent, which shows the code again to compare with the device (RFC 8628 §5.4)
    for (let i = 0; i < 3 && (await tab!.getByRole('button', { name: 'Allow' }).count()) === 0; i++) {
      if ((await tab!.getByLabel('Username').count()) > 0) await signIn(tab!);
      else {
        expect(await tab!.getByLabel('Code from your device').inputValue()).toBe(userCode);
        await tab!.getByRole('button', { name: 'Continue' }).click();
      }
      await tab!.waitForLoadState();
    }
    expect(await tab!.content()).toContain(userCode);
    await tab!.getByRole('button', { name: 'Allow' }).click();
    await tab!.waitForLoadState();
    await tab!.close();

    await page.getByRole('button', { name: 'Poll the token endpoint' }).click();
    await page.waitForURL(`${s.issuer}/playground/device#run`);
    expect(await steps(page)).toEqual([
      '1. Device authorization request: App (the playground) → Authorization server',
      '2. Token request (device code, polling): App (the playground) → Authorization server',
      '3. Token request (device code, polling): App (the playground) → Authorization server',
      '4. Signing keys (JWKS): App (the playground) → Authorization server',
    ]);
    expect(await page.locator('ol.steps > li').nth(2).innerText()).toMatch(/Response: 200/);
    expect(await tokenSignature(page, 'id_token')).toMatch(/: valid: signed/);
    expect(await page.locator('#user-code').count()).toBe(0);
  }, 120_000);
});

describe('the single-page app, JavaScript on', () => {
  it('exchanges the code in the page itself, and the playground pages have no serious axe-core violation', async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    p.setDefaultTimeout(30_000);
    await p.goto(`${s.issuer}/playground`);
    expect(await seriousViolations(p)).toEqual([]);
    await p.goto(`${s.issuer}/playground/spa`);
    expect(await seriousViolations(p)).toEqual([]);
    await p.getByRole('button', { name: 'Start the flow' }).click();
    await signIn(p);
    await p.getByRole('button', { name: 'Allow' }).click();
    await p.waitForURL(`${s.issuer}/playground/spa#run`);
    expect(await steps(p)).toEqual([
      '1. Authorization request: Browser → Authorization server',
      '2. Authorization response: Authorization server → Browser',
      '3. Token request (authorization code): Browser → Authorization server',
      '4. Signing keys (JWKS): App (the playground) → Authorization server',
    ]);
    const tokenStep = await p.locator('ol.steps > li').nth(2).innerText();
    expect(tokenStep).toMatch(/Response: 200/);
    expect(tokenStep).toMatch(/code_verifier\s+\S{8}…\(43 characters\)/);
    expect(tokenStep).not.toContain('client_secret');
    expect(await tokenSignature(p, 'id_token')).toMatch(/: valid: signed/);
    await expectMasked(p);
    expect(await seriousViolations(p)).toEqual([]);
    // a run page of a server-side flow, with its tables and forms
    await p.goto(`${s.issuer}/playground/client-credentials`);
    await p.getByRole('button', { name: 'Start the flow' }).click();
    await p.waitForURL(`${s.issuer}/playground/client-credentials#run`);
    expect(await seriousViolations(p)).toEqual([]);
    await context.close();
  }, 180_000);
});
