// Token exchange (RFC 8693) driven with openid-client against a listening server: a user signs
// in at `frontend` (code flow), and the resource server `gateway` exchanges the access token it
// receives with genericGrantRequest, as itself (delegation) or for the user alone.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, REDIRECT, startTestServer, type TestServer } from '../support/harness.js';
import { ACCESS_TOKEN, ORDERS_API, TOKEN_EXCHANGE, tokenExchangeClients, TX_SECRETS } from '../token-exchange/clients.js';
import { Browser } from './support/browser.js';
import { codeFlow, refusal, relyingParty } from './support/rp.js';

let s: TestServer;
let frontend: client.Configuration;
let gateway: client.Configuration;

beforeAll(async () => {
  s = await startTestServer({ listen: true, clients: tokenExchangeClients() });
  frontend = await relyingParty(s.issuer, 'frontend', client.ClientSecretBasic(TX_SECRETS.frontend));
  gateway = await relyingParty(s.issuer, 'gateway', client.ClientSecretBasic(TX_SECRETS.gateway));
});
afterAll(async () => s?.close());

/** The access token `frontend` gets for Alice; it names `gateway` in its audience. */
async function userAccessToken(): Promise<string> {
  const { tokens } = await codeFlow(frontend, new Browser(s.issuer), { redirect_uri: REDIRECT, scope: 'openid profile orders:read' });
  return tokens.access_token;
}

describe('token exchange with openid-client (RFC 8693)', () => {
  it('advertises the grant in discovery', () => {
    expect(gateway.serverMetadata().grant_types_supported).toContain(TOKEN_EXCHANGE);
  });

  it('exchanges a user access token for a delegated token to another audience, verifiable with the JWKS', async () => {
    const subject = await userAccessToken();
    const actor = (await client.clientCredentialsGrant(gateway)).access_token;
    const t = await client.genericGrantRequest(gateway, TOKEN_EXCHANGE, {
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN,
      actor_token: actor,
      actor_token_type: ACCESS_TOKEN,
      audience: ORDERS_API,
      scope: 'orders:read',
    });
    expect(t).toMatchObject({ token_type: 'bearer', issued_token_type: ACCESS_TOKEN, scope: 'orders:read' });
    expect(t.refresh_token).toBeUndefined();
    const jwks = createRemoteJWKSet(new URL(gateway.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(t.access_token, jwks, { issuer: s.issuer, audience: ORDERS_API, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: ALICE.sub, client_id: 'gateway', scope: 'orders:read', act: { sub: 'gateway' } });
    // the authorization server still vouches for it
    const info = await client.tokenIntrospection(gateway, t.access_token);
    expect(info).toMatchObject({ active: true, sub: ALICE.sub, client_id: 'gateway', scope: 'orders:read', act: { sub: 'gateway' } });
  });

  it('impersonates without an actor, with the user\'s scope the gateway may hold', async () => {
    const t = await client.genericGrantRequest(gateway, TOKEN_EXCHANGE, { subject_token: await userAccessToken(), subject_token_type: ACCESS_TOKEN, resource: ORDERS_API });
    expect(t.scope).toBe('openid profile orders:read');
    const { payload } = await jwtVerify(t.access_token, createRemoteJWKSet(new URL(gateway.serverMetadata().jwks_uri!)), { issuer: s.issuer, audience: ORDERS_API });
    expect(payload.sub).toBe(ALICE.sub);
    expect(payload.act).toBeUndefined();
  });

  it('reports the RFC 8693 2.2.2 errors to the client library', async () => {
    const subject = await userAccessToken();
    expect(await refusal(client.genericGrantRequest(gateway, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN, audience: 'https://elsewhere.example.com' }))).toMatchObject({
      status: 400,
      error: 'invalid_target',
    });
    expect(await refusal(client.genericGrantRequest(gateway, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API, scope: 'orders:write' }))).toMatchObject({
      status: 400,
      error: 'invalid_scope',
    });
    expect(await refusal(client.genericGrantRequest(gateway, TOKEN_EXCHANGE, { subject_token: 'x.y.z', subject_token_type: ACCESS_TOKEN, audience: ORDERS_API }))).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
  });
});
