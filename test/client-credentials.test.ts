import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, claimsOf, SECRETS, startTestServer, type TestServer } from './support/harness.js';

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
});
