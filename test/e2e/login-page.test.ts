// The login page in a real browser (Chromium): it renders, has no serious accessibility
// violation (axe-core), and a person signs in with it without JavaScript.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sessionCookieName } from '../../src/authentication/login-session.js';
import { launchBrowser, seriousViolations } from '../support/browser.js';
import { ALICE, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
let browser: Browser;
beforeAll(async () => {
  s = await startTestServer({ listen: true });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

it('has no serious axe-core violation', async () => {
  // axe runs as a script in the page, so this context has JavaScript
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${s.issuer}/login`);
  expect(await seriousViolations(page)).toEqual([]);
  await context.close();
});

it('signs a person in with JavaScript off', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${s.issuer}/login`);
  await page.getByLabel('Username').fill(ALICE.username);
  await page.getByLabel('Password').fill(ALICE.password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  expect((await context.cookies()).map((c) => c.name)).toContain(sessionCookieName(s.ctx));
  await context.close();
});
