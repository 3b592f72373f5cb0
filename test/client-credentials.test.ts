import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { syncClients } from '../src/bootstrap.js';
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
