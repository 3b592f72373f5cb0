// "A copy of the database lets nobody in" (ARCHITECTURE.md, issue 2 point 3): after every flow
// has run once, no table holds a client secret, password, authorization code, refresh token,
// device_code, user_code, login session id or private key in the clear. Each is there only as
// its SHA-256 (or argon2id, or AES-GCM under SECRET_KEY).
import type { JWK } from 'jose';
import { sql } from 'kysely';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/crypto/hash.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { Browser } from '../conformance/support/browser.js';
import { codeFlow, relyingParty } from '../conformance/support/rp.js';
import { ALICE, REDIRECT, SECRETS, startTestServer, type TestServer } from '../support/harness.js';

const TEST_SECRET_KEY = 'test-secret-key-0123456789-0123456789';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ listen: true });
});
afterAll(async () => s?.close());

/** Every row of every table of the schema, as one JSON text. */
async function dumpDatabase(): Promise<{ text: string; tables: string[] }> {
  const tables = (
    await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(s.ctx.db)
  ).rows.map((r) => r.table_name);
  const parts: string[] = [];
  for (const t of tables) parts.push(JSON.stringify((await sql`select * from ${sql.table(t)}`.execute(s.ctx.db)).rows));
  return { text: parts.join('\n'), tables };
}

describe('secrets at rest', () => {
  it('after a code flow, a device flow, a password grant and a refresh, no table holds a secret in the clear', async () => {
    const secrets: Record<string, string> = { ...SECRETS, password: ALICE.password, secret_key: TEST_SECRET_KEY };

    // authorization code flow: code, access, ID and refresh tokens, a login session
    const web = await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web));
    const browser = new Browser(s.issuer);
    const { tokens, callback } = await codeFlow(web, browser, { redirect_uri: REDIRECT, scope: 'openid profile offline_access' });
    secrets.code = callback.params.get('code')!;
    secrets.code_refresh_token = tokens.refresh_token!;
    // the session cookie is `<id>.<signature>`; the id is the secret
    secrets.session_id = decodeURIComponent(browser.jar.get('session')!).split('.')[0]!;
    const rotated = await client.refreshTokenGrant(web, tokens.refresh_token!);
    secrets.rotated_refresh_token = rotated.refresh_token!;

    // device flow: device_code and user_code, approved by the signed-in browser
    const tv = await relyingParty(s.issuer, 'tv');
    const d = await client.initiateDeviceAuthorization(tv, { scope: 'openid offline_access' });
    secrets.device_code = d.device_code;
    secrets.user_code = d.user_code;
    secrets.user_code_normalised = d.user_code.replace('-', '');
    const approved = await s.ctx.repos.deviceCodes.decide(secrets.user_code_normalised, { approved: true, sub: ALICE.sub, auth_time: new Date(), granted_scope: 'openid offline_access' });
    expect(approved).toBe(true);
    const deviceTokens = await client.genericGrantRequest(tv, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: d.device_code });
    secrets.device_refresh_token = deviceTokens.refresh_token!;

    // password grant
    const legacy = await relyingParty(s.issuer, 'legacy', client.ClientSecretPost(SECRETS.legacy));
    const pw = await client.genericGrantRequest(legacy, 'password', { username: ALICE.username, password: ALICE.password, scope: 'openid offline_access' });
    secrets.password_refresh_token = pw.refresh_token!;

    const { text, tables } = await dumpDatabase();
    // issue 2 point 3: the tables the migrations create
    for (const t of ['clients', 'users', 'login_sessions', 'consents', 'grants', 'authorization_codes', 'refresh_tokens', 'device_codes', 'token_revocations', 'signing_keys', 'audit_log'])
      expect(tables).toContain(t);

    for (const [name, value] of Object.entries(secrets)) {
      expect(value.length, name).toBeGreaterThanOrEqual(8);
      expect(text.includes(value), `${name} is stored in the clear`).toBe(false);
    }
    // ...but each one-time value and client secret is there as its SHA-256, so the rows exist
    for (const name of ['web', 'service', 'legacy', 'code', 'code_refresh_token', 'rotated_refresh_token', 'session_id', 'device_code', 'user_code_normalised', 'device_refresh_token', 'password_refresh_token'])
      expect(text.includes(sha256(secrets[name]!)), `${name} is not stored as its SHA-256`).toBe(true);

    // passwords are argon2id
    const alice = await s.ctx.repos.users.findByUsername(ALICE.username);
    expect(alice!.password_hash).toMatch(/^\$argon2id\$/);

    // no private key member of any signing key appears in the dump; the sealed column opens only under SECRET_KEY
    const keys = await s.ctx.db.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).execute();
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const k of keys) {
      const priv = JSON.parse(new SecretBox(TEST_SECRET_KEY).open(k.private_jwk_encrypted)) as JWK;
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) if (priv[member]) expect(text.includes(priv[member]), `${k.kid} ${member}`).toBe(false);
    }
  });
});
