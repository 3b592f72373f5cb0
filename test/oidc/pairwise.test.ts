// Pairwise subject identifiers (OIDC Core §8, §8.1) against a listening server, with relying
// parties built by openid-client: one sub per sector, the same in ID token, access token,
// userinfo and introspection; id_token_hint recognised; the registry's sector rules.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncClients } from '../../src/bootstrap.js';
import { clientSchema, parseRegistry, type ClientConfig } from '../../src/config/clients.js';
import { ConfigError } from '../../src/config/env.js';
import { checkSectorIdentifiers } from '../../src/config/sector-identifier.js';
import { createContext } from '../../src/context.js';
import { subjectFor } from '../../src/oauth/subject.js';
import { syncRegistry } from '../../src/operations/registry-sync.js';
import { ALICE, basic, claimsOf, defaultClients, SECRETS, startTestServer, type TestServer } from '../support/harness.js';
import { Browser, isCallback } from '../conformance/support/browser.js';
import { codeFlow, relyingParty } from '../conformance/support/rp.js';

const SECRET = 'pairwise-secret-0123456789-0123456789-0123';
const SECTOR_URIS = ['https://c.example.com/cb', 'https://d.example.com/cb'];

let s: TestServer;
let sectorBase: string;
const sectorServer = createServer((req, res) => {
  const docs: Record<string, string> = {
    '/sector.json': JSON.stringify([...SECTOR_URIS, 'https://e.example.com/unused']),
    '/partial.json': JSON.stringify([SECTOR_URIS[0]]),
    '/object.json': JSON.stringify({ redirect_uris: SECTOR_URIS }),
    '/broken.json': '[not json',
  };
  const doc = docs[req.url ?? ''];
  if (doc === undefined) res.writeHead(404).end();
  else res.writeHead(200, { 'content-type': 'application/json' }).end(doc);
});
const rps = new Map<string, client.Configuration>();

function pairwise(client_id: string, redirect_uris: string[], extra: Record<string, unknown> = {}): ClientConfig {
  return clientSchema.parse({ client_id, client_secret: SECRET, redirect_uris, grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile', skip_consent: true, subject_type: 'pairwise', ...extra });
}

beforeAll(async () => {
  await new Promise<void>((resolve) => sectorServer.listen(0, '127.0.0.1', resolve));
  sectorBase = `http://127.0.0.1:${(sectorServer.address() as AddressInfo).port}`;
  const clients = [
    ...defaultClients(),
    pairwise('a-one', ['https://a.example.com/cb']),
    // the same host, so the same sector as a-one
    pairwise('a-two', ['https://a.example.com/other', 'https://a.example.com:8443/cb']),
    pairwise('b', ['https://b.example.com/cb']),
    // two hosts: the sector is the host of the sector_identifier_uri
    pairwise('multi', SECTOR_URIS, { sector_identifier_uri: `${sectorBase}/sector.json` }),
  ];
  s = await startTestServer({ listen: true, clients });
  for (const c of clients) if (c.client_id !== 'web' && c.subject_type === 'pairwise') rps.set(c.client_id, await relyingParty(s.issuer, c.client_id, client.ClientSecretBasic(SECRET)));
  rps.set('web', await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web)));
});
afterAll(async () => {
  await s?.close();
  sectorServer.close();
});

const redirectOf = (id: string) => ({ 'a-one': 'https://a.example.com/cb', 'a-two': 'https://a.example.com/other', b: 'https://b.example.com/cb', multi: SECTOR_URIS[1]!, web: 'http://127.0.0.1:8080/callback' })[id]!;

async function signIn(browser: Browser, id: string, scope = 'openid profile') {
  return (await codeFlow(rps.get(id)!, browser, { redirect_uri: redirectOf(id), scope })).tokens;
}

describe('pairwise subject identifiers', () => {
  it('are advertised in discovery (OIDC Discovery §3 subject_types_supported)', () => {
    expect(rps.get('web')!.serverMetadata().subject_types_supported).toEqual(['public', 'pairwise']);
  });

  it('give one user a different sub per sector and the same within one; public clients keep the user sub', async () => {
    const browser = new Browser(s.issuer);
    const subs: Record<string, string> = {};
    for (const id of ['a-one', 'a-two', 'b', 'multi', 'web']) subs[id] = (await signIn(browser, id)).claims()!.sub;
    expect(subs.web).toBe(ALICE.sub);
    expect(subs['a-one']).toBe(subs['a-two']);
    expect(new Set([subs['a-one'], subs.b, subs.multi, ALICE.sub]).size).toBe(4);
    for (const id of ['a-one', 'b', 'multi']) expect(subs[id]).toMatch(/^[\w-]{43}$/);
    // OIDC Core §8.1: SHA-256 over sector, local sub and a salt; the sector of `multi` is the
    // host of its sector_identifier_uri
    const expected = (sector: string) => createHash('sha256').update(`${sector}\0${ALICE.sub}\0${s.ctx.pairwiseSalt}`).digest('base64url');
    expect(subs['a-one']).toBe(expected('a.example.com'));
    expect(subs.multi).toBe(expected('127.0.0.1'));
  });

  it('is the same in the ID token, the access token, userinfo and introspection of access and refresh tokens', async () => {
    const tokens = await signIn(new Browser(s.issuer), 'b');
    const sub = tokens.claims()!.sub;
    expect(claimsOf(tokens.access_token).sub).toBe(sub);
    // openid-client checks that userinfo's sub is the expected one (OIDC Core §5.3.2)
    const info = await client.fetchUserInfo(rps.get('b')!, tokens.access_token, sub);
    expect(info.sub).toBe(sub);
    expect(info.name).toBe('Alice Example');
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      const r = await s.app.inject({ method: 'POST', url: '/introspect', headers: { authorization: basic('b', SECRET), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token }).toString() });
      expect(r.json()).toMatchObject({ active: true, sub });
    }
    // a refreshed ID token keeps it (OIDC Core §12.2)
    expect((await client.refreshTokenGrant(rps.get('b')!, tokens.refresh_token!)).claims()!.sub).toBe(sub);
  });

  it('never changes: another instance on the database computes the same one from the salt kept there', async () => {
    const other = await createContext(s.ctx.env, s.ctx.db);
    expect(other.pairwiseSalt).toBe(s.ctx.pairwiseSalt);
    const b = (await other.clients.get('b'))!;
    expect(subjectFor(other, b, ALICE.sub)).toBe(subjectFor(s.ctx, b, ALICE.sub));
  });

  it('accepts an ID token with a pairwise sub as id_token_hint at /authorize (prompt=none answers at once)', async () => {
    const browser = new Browser(s.issuer);
    const first = await signIn(browser, 'b');
    const rp = rps.get('b')!;
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: redirectOf('b'),
      scope: 'openid',
      prompt: 'none',
      id_token_hint: first.id_token!,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const cb = await browser.authorize(url.href, { maxSteps: 0 });
    expect(cb.params.get('error')).toBeNull();
    expect(cb.params.get('code')).toBeTruthy();
  });

  it('accepts it at the end-session endpoint: the session ends without a confirmation page', async () => {
    const browser = new Browser(s.issuer);
    const first = await signIn(browser, 'a-one');
    const res = await browser.get(client.buildEndSessionUrl(rps.get('a-one')!, { id_token_hint: first.id_token! }).href);
    expect(isCallback(res)).toBe(false);
    if (!isCallback(res)) expect(res.html).toContain('You are signed out');
    // signed out: prompt=none now needs a login
    const again = client.buildAuthorizationUrl(rps.get('a-one')!, {
      redirect_uri: redirectOf('a-one'),
      scope: 'openid',
      prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    expect((await browser.authorize(again.href, { maxSteps: 0 })).params.get('error')).toBe('login_required');
  });
});

describe('pairwise: registry rules', () => {
  const parse = (c: Record<string, unknown>) => clientSchema.safeParse({ client_id: 'x', client_secret: SECRET, grant_types: ['authorization_code'], subject_type: 'pairwise', ...c });

  it('refuses redirect URIs of several hosts without a sector_identifier_uri (OIDC Core §8.1)', () => {
    const r = parse({ redirect_uris: SECTOR_URIS });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ['sector_identifier_uri'], message: expect.stringContaining('c.example.com, d.example.com') });
    expect(parse({ redirect_uris: SECTOR_URIS, sector_identifier_uri: 'https://c.example.com/sector.json' }).success).toBe(true);
    // and a sector_identifier_uri on a public client means a mistake
    expect(parse({ redirect_uris: SECTOR_URIS, sector_identifier_uri: 'https://c.example.com/s.json', subject_type: 'public' }).success).toBe(false);
  });

  it('refuses an http sector_identifier_uri in production', () => {
    const file = JSON.stringify({ clients: [{ client_id: 'x', client_secret: 'x'.repeat(40), redirect_uris: SECTOR_URIS, subject_type: 'pairwise', sector_identifier_uri: `${sectorBase}/sector.json` }] });
    expect(() => parseRegistry(file, 'clients.json', { production: true, env: {} })).toThrow('clients.json: clients[0].sector_identifier_uri: must be https in production');
    expect(() => parseRegistry(file, 'clients.json', { production: false, env: {} })).not.toThrow();
  });

  it('is checked by the sync that start, SIGHUP and `clients sync` share, which then writes nothing', async () => {
    const partial = pairwise('sector-partial', SECTOR_URIS, { sector_identifier_uri: `${sectorBase}/partial.json` });
    const sync = syncRegistry(s.ctx.db, { clients: [...defaultClients(), partial], clientsFile: 'clients.json', users: [], usersFile: undefined });
    await expect(sync).rejects.toThrow(`does not list the redirect URI ${SECTOR_URIS[1]}`);
    expect(await s.ctx.repos.clients.findAll().then((all) => all.map((c) => c.client_id))).not.toContain('sector-partial');
  });

  it('fetches the sector_identifier_uri at registry sync and refuses one line when it does not list every redirect URI', async () => {
    const withSector = (path: string) => pairwise('multi', SECTOR_URIS, { sector_identifier_uri: `${sectorBase}${path}` });
    await expect(checkSectorIdentifiers([withSector('/sector.json')], 'clients.json')).resolves.toBeUndefined();
    const cases: [string, string][] = [
      ['/partial.json', `does not list the redirect URI ${SECTOR_URIS[1]}`],
      ['/object.json', 'must be a JSON array of URL strings'],
      ['/broken.json', 'not JSON'],
      ['/missing.json', 'answered HTTP 404'],
    ];
    for (const [path, problem] of cases) {
      const e = await checkSectorIdentifiers([pairwise('a-one', ['https://a.example.com/cb']), withSector(path)], 'clients.json').then(() => undefined, (x: unknown) => x);
      expect(e, path).toBeInstanceOf(ConfigError);
      expect((e as Error).message.startsWith(`clients.json: clients[1].sector_identifier_uri: ${sectorBase}${path}`), path).toBe(true);
      expect((e as Error).message).toContain(problem);
      expect((e as Error).message).not.toContain('\n');
    }
    // a sync with such a registry changes nothing
    await expect(syncClients(s.ctx, [withSector('/partial.json')])).rejects.toThrow(ConfigError);
    expect(await s.ctx.clients.get('a-one')).toBeDefined();
  });
});
