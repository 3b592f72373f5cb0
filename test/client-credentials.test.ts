import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { syncClients } from '../src/bootstrap.js';
import { clientSchema, type ClientConfig } from '../src/config/clients.js';
import { basic, claimsOf, defaultClients, SECRETS, startTestServer, type TestServer } from './support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const token = (body: Record<string, string>, auth?: string) =>
  s.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) }, payload: new URLSearchParams(body).toString() });

describe('client_credentials (smoke of the harness)', () => {
  it('issues an RFC 9068 access token', async () => {
    const r = await token({ grant_type: 'client_credentials', scope: 'invoices:read' }, basic('service', SECRETS.service));
    expect(r.statusCode).toBe(200);
    const j = r.json();
    expect(j.token_type).toBe('Bearer');
    expect(j.refresh_token).toBeUndefined();
    const header = JSON.parse(Buffer.from(j.access_token.split('.')[0], 'base64url').toString());
    expect(header.typ).toBe('at+jwt');
    const c = claimsOf(j.access_token);
    expect(c).toMatchObject({ iss: s.issuer, sub: 'service', client_id: 'service', scope: 'invoices:read', aud: ['https://api.example.com', 'https://other.example.com'] });
  });

  it('costs no database round trip: client from the cache, SHA-256 secret, in-memory key (issue 4, Performance)', async () => {
    await token({ grant_type: 'client_credentials' }, basic('service', SECRETS.service));
    const executeQuery = vi.spyOn(s.ctx.db.getExecutor(), 'executeQuery');
    try {
      for (let i = 0; i < 5; i++) {
        const r = await token({ grant_type: 'client_credentials', scope: 'invoices:read' }, basic('service', SECRETS.service));
        expect(r.statusCode).toBe(200);
      }
      const refused = await token({ grant_type: 'client_credentials' }, basic('service', 'wrong-secret-0123456789-0123456789-0123'));
      expect(refused.statusCode).toBe(401);
      expect(executeQuery).not.toHaveBeenCalled();
      // the spy does see queries (a control, so the assertion above means something)
      await s.ctx.repos.tokens.isJtiRevoked('x');
      expect(executeQuery).toHaveBeenCalled();
    } finally {
      executeQuery.mockRestore();
    }
  });

  it('sees a client disabled by a registry sync at once (the cache is refreshed after every sync)', async () => {
    await syncClients(s.ctx, defaultClients().filter((c) => c.client_id !== 'service'));
    try {
      const r = await token({ grant_type: 'client_credentials' }, basic('service', SECRETS.service));
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toBe('invalid_client');
    } finally {
      await syncClients(s.ctx, defaultClients());
    }
  });
});

describe('client_credentials: what the grant itself refuses or withholds (RFC 6749 §4.4)', () => {
  const WORKER_SECRET = 'worker-secret-0123456789-0123456789-0123';
  // characters that RFC 6749 §2.3.1 form-encoding changes: ':' '%' '+' and a space
  const ODD_ID = 'job:runner%+';
  const ODD_SECRET = 'odd secret:with%25+plus-0123456789-0123456789';
  let t: TestServer;
  beforeAll(async () => {
    // A public client registered for client_credentials: the registry refuses to load one
    // (test/config/clients.test.ts), so it is built around the schema here, as a database row
    // written by an older version could be. The grant must still refuse it.
    const publicCc: ClientConfig = { ...clientSchema.parse({ client_id: 'kiosk', grant_types: ['refresh_token', 'authorization_code'], redirect_uris: ['https://kiosk.example.com/cb'], token_endpoint_auth_method: 'none', scope: 'a' }), grant_types: ['client_credentials'] };
    const worker = clientSchema.parse({ client_id: 'worker', client_secret: WORKER_SECRET, grant_types: ['client_credentials', 'refresh_token'], scope: 'jobs:run' });
    const odd = clientSchema.parse({ client_id: ODD_ID, client_secret: ODD_SECRET, grant_types: ['client_credentials'], scope: 'jobs:run' });
    t = await startTestServer({ clients: [...defaultClients(), publicCc, worker, odd] });
  });
  afterAll(async () => t?.close());

  const tokenAt = (body: Record<string, string>, auth?: string) =>
    t.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) }, payload: new URLSearchParams(body).toString() });

  it('refuses a public client even when it is registered for the grant', async () => {
    const r = await tokenAt({ grant_type: 'client_credentials', client_id: 'kiosk' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: 'unauthorized_client', error_description: 'client_credentials needs a confidential client' });
  });

  it('reads Basic credentials as RFC 6749 §2.3.1 has them: id and secret form-urlencoded before base64', async () => {
    const form = (v: string) => new URLSearchParams({ v }).toString().slice(2); // '+' for a space, %XX for the rest
    const encoded = `Basic ${Buffer.from(`${form(ODD_ID)}:${form(ODD_SECRET)}`).toString('base64')}`;
    expect(encoded).not.toBe(`Basic ${Buffer.from(`${ODD_ID}:${ODD_SECRET}`).toString('base64')}`);
    const r = await tokenAt({ grant_type: 'client_credentials' }, encoded);
    expect(r.statusCode).toBe(200);
    expect(claimsOf(r.json().access_token).client_id).toBe(ODD_ID);
    // plain values with nothing to decode pass as they are
    expect((await tokenAt({ grant_type: 'client_credentials' }, basic('worker', WORKER_SECRET))).statusCode).toBe(200);
  });

  it('issues no refresh token (§4.4.3), even to a client that registered refresh_token', async () => {
    const r = await tokenAt({ grant_type: 'client_credentials' }, basic('worker', WORKER_SECRET));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ token_type: 'Bearer', scope: 'jobs:run' });
    expect(r.json().refresh_token).toBeUndefined();
    expect(await t.ctx.db.selectFrom('refresh_tokens').select('client_id').where('client_id', '=', 'worker').execute()).toEqual([]);
  });
});
