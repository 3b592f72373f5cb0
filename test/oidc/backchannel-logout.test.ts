// OpenID Connect Back-Channel Logout 1.0 against a listening server: relying parties signed in
// with openid-client, a real HTTP receiver for their backchannel_logout_uri, and each logout
// token verified with jose against the server's published JWKS.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema, type ClientConfig } from '../../src/config/clients.js';
import { sidOf } from '../../src/authentication/login-session.js';
import { randomToken } from '../../src/crypto/random.js';
import { BackchannelLogoutRepository } from '../../src/repositories/backchannel-logout.js';
import { ALICE, defaultClients, defaultUsers, freshDatabase, REDIRECT, startTestServer, type TestServer } from '../support/harness.js';
import { Browser, isCallback, parseForms } from '../conformance/support/browser.js';
import { codeFlow, refusal, relyingParty } from '../conformance/support/rp.js';
import { eventually, Receiver } from './receiver.js';

const SECRET = 'rp-secret-0123456789-0123456789-0123456789';
const BOB = { username: 'bob', password: 'bob-password-1234', sub: 'bob-sub-1' };
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let s: TestServer;
let receiver: Receiver;
let jwks: ReturnType<typeof createRemoteJWKSet>;
const rps = new Map<string, client.Configuration>();

function rpClient(client_id: string, extra: Record<string, unknown>): ClientConfig {
  return clientSchema.parse({
    client_id,
    client_secret: SECRET,
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile offline_access',
    skip_consent: true,
    ...extra,
  });
}

beforeAll(async () => {
  receiver = await new Receiver().start();
  const clients = [
    ...defaultClients(),
    rpClient('rp-a', { backchannel_logout_uri: `${receiver.url}/a?tenant=1`, backchannel_logout_session_required: true }),
    rpClient('rp-b', { backchannel_logout_uri: `${receiver.url}/b` }),
    // signs in, but registered no back-channel logout URI
    rpClient('rp-quiet', {}),
    rpClient('rp-pairwise', { backchannel_logout_uri: `${receiver.url}/pairwise`, subject_type: 'pairwise', redirect_uris: ['https://pairwise.example.com/cb'] }),
  ];
  s = await startTestServer({
    listen: true,
    clients,
    users: [...defaultUsers(), { username: BOB.username, password: BOB.password, sub: BOB.sub, claims: {} }],
    env: { BACKCHANNEL_LOGOUT_TIMEOUT: '1', BACKCHANNEL_LOGOUT_RETRY_DELAY: '1', BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: '3' },
  });
  for (const id of ['rp-a', 'rp-b', 'rp-quiet', 'rp-pairwise']) rps.set(id, await relyingParty(s.issuer, id, client.ClientSecretBasic(SECRET)));
  jwks = createRemoteJWKSet(new URL(rps.get('rp-a')!.serverMetadata().jwks_uri!));
});
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

/** Signs the browser in to a relying party (Alice unless told otherwise) and returns its tokens. */
async function signIn(browser: Browser, clientId: string, scope = 'openid', redirect_uri = REDIRECT) {
  return (await codeFlow(rps.get(clientId)!, browser, { redirect_uri, scope })).tokens;
}

async function logOut(browser: Browser, idToken: string, clientId = 'rp-a') {
  const res = await browser.get(client.buildEndSessionUrl(rps.get(clientId)!, { id_token_hint: idToken }).href);
  expect(isCallback(res) ? 'redirect' : res.status).toBe(200);
}

/** A logout token verified as a relying party must (Back-Channel Logout 1.0 §2.6). */
async function verifyLogoutToken(token: string, audience: string): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: s.issuer, audience, typ: 'logout+jwt', requiredClaims: ['iat', 'exp', 'jti', 'events'] });
  expect(protectedHeader.typ).toBe('logout+jwt');
  return payload;
}

const queued = async () => (await s.ctx.db.selectFrom('backchannel_logout_deliveries').select('id').execute()).length;
/** Waits until what earlier tests queued has been delivered, then forgets what was received. */
const fresh = async () => {
  await eventually(async () => (await queued()) === 0);
  receiver.received.length = 0;
  receiver.answers.length = 0;
  receiver.otherwise = 200;
};

describe('back-channel logout: discovery and sid', () => {
  it('advertises back-channel logout with sessions (§2.1), and ID tokens from a login session carry its sid', async () => {
    const meta = rps.get('rp-a')!.serverMetadata();
    expect(meta.backchannel_logout_supported).toBe(true);
    expect(meta.backchannel_logout_session_supported).toBe(true);
    expect(meta.claims_supported).toContain('sid');
    const browser = new Browser(s.issuer);
    const a = await signIn(browser, 'rp-a');
    const b = await signIn(browser, 'rp-b');
    const sid = a.claims()!.sid;
    expect(sid).toEqual(expect.stringMatching(/^[\w-]{43}$/));
    // one OP session, one sid for every client
    expect(b.claims()!.sid).toBe(sid);
    // and a refreshed ID token keeps it
    const refreshed = await client.refreshTokenGrant(rps.get('rp-a')!, a.refresh_token!);
    expect(refreshed.claims()!.sid).toBe(sid);
  });
});

describe('back-channel logout: delivery', () => {
  it('POSTs a logout token to each client the session signed in to that registered a backchannel_logout_uri, and to no other', async () => {
    await fresh();
    const browser = new Browser(s.issuer);
    const a = await signIn(browser, 'rp-a');
    await signIn(browser, 'rp-quiet');
    await logOut(browser, a.id_token!);
    await eventually(() => receiver.received.length >= 1);
    await eventually(async () => (await queued()) === 0);
    // rp-b registered a URI but this session never signed in to it; rp-quiet registered none
    expect(receiver.received.map((r) => r.path)).toEqual(['/a?tenant=1']);
    const [got] = receiver.received;
    expect(got!.contentType).toBe('application/x-www-form-urlencoded');
    const claims = await verifyLogoutToken(got!.form.get('logout_token')!, 'rp-a');
    const idToken = a.claims()!;
    expect(claims).toMatchObject({ iss: s.issuer, aud: 'rp-a', sub: idToken.sub, sid: idToken.sid, events: { [EVENT]: {} } });
    expect(claims.jti).toEqual(expect.any(String));
    // §2.4: a nonce is forbidden; the token is short-lived
    expect(claims).not.toHaveProperty('nonce');
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(120);
  });

  it('does not delay the logout for a client that does not answer: the attempt times out and is tried again', async () => {
    await fresh();
    receiver.answers.push('hang');
    const browser = new Browser(s.issuer);
    const a = await signIn(browser, 'rp-a');
    await logOut(browser, a.id_token!);
    // the person is signed out while the first attempt is still held open by the receiver (or not sent yet)
    expect(receiver.received.every((r) => !r.abandoned)).toBe(true);
    // BACKCHANNEL_LOGOUT_TIMEOUT=1: the sender gives up on it, and the retry is answered
    await eventually(() => receiver.received.length >= 2 && receiver.received[0]!.abandoned);
    await eventually(async () => (await queued()) === 0);
    expect(receiver.received).toHaveLength(2);
  });

  it('retries after a 500 with a freshly signed token', async () => {
    await fresh();
    receiver.answers.push(500);
    const browser = new Browser(s.issuer);
    const a = await signIn(browser, 'rp-a');
    await logOut(browser, a.id_token!);
    await eventually(() => receiver.received.length >= 2);
    await eventually(async () => (await queued()) === 0);
    const [first, second] = await Promise.all(receiver.received.map((r) => verifyLogoutToken(r.form.get('logout_token')!, 'rp-a')));
    expect(second!.jti).not.toBe(first!.jti);
    expect(second!.sid).toBe(first!.sid);
  });

  it('gives up after BACKCHANNEL_LOGOUT_MAX_ATTEMPTS failures, and at once on a 400, and records it in the audit log', async () => {
    await fresh();
    receiver.otherwise = 503;
    const browser = new Browser(s.issuer);
    const a = await signIn(browser, 'rp-a');
    await logOut(browser, a.id_token!);
    await eventually(async () => receiver.received.length >= 3 && (await queued()) === 0);
    expect(receiver.received).toHaveLength(3);

    await fresh();
    receiver.otherwise = 400;
    const again = new Browser(s.issuer);
    const b = await signIn(again, 'rp-b');
    await logOut(again, b.id_token!, 'rp-b');
    await eventually(async () => receiver.received.length >= 1 && (await queued()) === 0);
    expect(receiver.received).toHaveLength(1);
    const audit = await s.ctx.db.selectFrom('audit_log').select(['client_id', 'detail']).where('event', '=', 'backchannel_logout_failed').execute();
    expect(audit.map((r) => [r.client_id, (r.detail as { attempts: number; error: string }).attempts, (r.detail as { error: string }).error])).toEqual(
      expect.arrayContaining([
        ['rp-a', 3, 'HTTP 503'],
        ['rp-b', 1, 'HTTP 400'],
      ]),
    );
  });

  it('sends a pairwise client its own subject, the one of its ID token', async () => {
    await fresh();
    const browser = new Browser(s.issuer);
    const t = await signIn(browser, 'rp-pairwise', 'openid', 'https://pairwise.example.com/cb');
    await logOut(browser, t.id_token!, 'rp-pairwise');
    await eventually(() => receiver.received.length >= 1);
    const claims = await verifyLogoutToken(receiver.received[0]!.form.get('logout_token')!, 'rp-pairwise');
    expect(claims.sub).toBe(t.claims()!.sub);
    expect(claims.sub).not.toBe(ALICE.sub);
  });

  it('finishes a delivery whose claim lapsed (an instance that stopped mid-way)', async () => {
    await fresh();
    const sid = sidOf(randomToken(32));
    // another instance claimed it, made one attempt and was gone before recording it
    await s.ctx.db.insertInto('backchannel_logout_deliveries').values({ client_id: 'rp-b', sub: ALICE.sub, sid, attempts: 1, locked_until: new Date(Date.now() - 1000) }).execute();
    s.app.backchannelLogout.wake();
    await eventually(() => receiver.received.length >= 1);
    const claims = await verifyLogoutToken(receiver.received[0]!.form.get('logout_token')!, 'rp-b');
    expect(claims).toMatchObject({ sub: ALICE.sub, sid });
  });
});

describe('back-channel logout: what else ends with the session', () => {
  it("revokes the session's refresh tokens without offline_access, and keeps those with it (§2.7)", async () => {
    await fresh();
    const browser = new Browser(s.issuer);
    const online = await signIn(browser, 'rp-a', 'openid');
    const offline = await signIn(browser, 'rp-b', 'openid offline_access');
    await logOut(browser, online.id_token!);
    expect((await refusal(client.refreshTokenGrant(rps.get('rp-a')!, online.refresh_token!))).error).toBe('invalid_grant');
    expect((await client.refreshTokenGrant(rps.get('rp-b')!, offline.refresh_token!)).access_token).toBeTruthy();
  });

  it('a login as another user ends the previous session like a logout; a new login of the same user does not', async () => {
    await fresh();
    const browser = new Browser(s.issuer);
    const a = await signIn(browser, 'rp-a');
    // the same user signs in again (prompt=login): nothing is sent, and the client stays linked
    await codeFlow(rps.get('rp-b')!, browser, { redirect_uri: REDIRECT, scope: 'openid', params: { prompt: 'login' } });
    expect(await queued()).toBe(0);
    // another user signs in at this browser: Alice's clients are told
    await codeFlow(rps.get('rp-quiet')!, browser, { redirect_uri: REDIRECT, scope: 'openid', params: { prompt: 'login' }, username: BOB.username, password: BOB.password });
    await eventually(() => receiver.received.length >= 2);
    const paths = receiver.received.map((r) => r.path).sort();
    expect(paths).toEqual(['/a?tenant=1', '/b']);
    for (const r of receiver.received) expect((await verifyLogoutToken(r.form.get('logout_token')!, r.path === '/b' ? 'rp-b' : 'rp-a')).sub).toBe(ALICE.sub);
    expect(a.claims()!.sub).toBe(ALICE.sub);
  });

  it('the confirmation page (logout without id_token_hint) sends logout tokens too', async () => {
    await fresh();
    const browser = new Browser(s.issuer);
    await signIn(browser, 'rp-a');
    const confirm = await browser.get(client.buildEndSessionUrl(rps.get('rp-a')!, {}).href);
    if (isCallback(confirm)) throw new Error('expected the confirmation page');
    const [form] = parseForms(confirm.html, confirm.url);
    await browser.submit(form!, {}, form!.buttons[0]);
    await eventually(() => receiver.received.length >= 1);
    expect(receiver.received[0]!.path).toBe('/a?tenant=1');
  });
});

describe('back-channel logout: the queue', () => {
  it('hands each due delivery to one claimant only, and not again while the claim holds', async () => {
    // a database of its own, with no worker taking rows
    const { db, drop } = await freshDatabase();
    try {
      await db.insertInto('backchannel_logout_deliveries').values(Array.from({ length: 6 }, () => ({ client_id: 'rp-a', sub: ALICE.sub, sid: 'x' }))).execute();
      const repo = new BackchannelLogoutRepository(db);
      const [x, y, z] = await Promise.all([repo.claim(4, 60_000), repo.claim(4, 60_000), repo.claim(4, 60_000)]);
      const ids = [...x!, ...y!, ...z!].map((r) => r.id);
      expect(ids).toHaveLength(6);
      expect(new Set(ids).size).toBe(6);
      expect([...x!, ...y!, ...z!].every((r) => r.attempts === 1)).toBe(true);
      expect(await repo.claim(10, 60_000)).toEqual([]);
    } finally {
      await drop();
    }
  });
});
