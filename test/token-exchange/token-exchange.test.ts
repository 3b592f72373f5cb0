// The token exchange grant at /token (RFC 8693): impersonation and delegation (the act claim,
// nested per hop), the per-client audience policy, scope and expiry that never widen, subject
// tokens that are refused (expired, revoked, foreign, not this client's), ID tokens as subject,
// requested_token_type, and the §2.2.2 error codes.
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { randomToken } from '../../src/crypto/random.js';
import { issueCode, RFC6749_DESCRIPTION, tokenRequest, userinfo } from '../grants/fixtures.js';
import { ALICE, basic, claimsOf, REDIRECT, startTestServer, type TestServer } from '../support/harness.js';
import { ACCESS_TOKEN, ID_TOKEN, JWT, LEDGER_API, ORDERS_API, TOKEN_EXCHANGE, tokenExchangeClients, TX_SECRETS } from './clients.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ clients: tokenExchangeClients() });
});
afterAll(async () => s?.close());

const auth = {
  frontend: basic('frontend', TX_SECRETS.frontend),
  gateway: basic('gateway', TX_SECRETS.gateway),
  billing: basic('billing', TX_SECRETS.billing),
  nosy: basic('nosy', TX_SECRETS.nosy),
};
const USER_SCOPE = 'openid profile email orders:read orders:write';

/** Alice signed in at `frontend`: its access token names `gateway` in its audience. */
async function signedIn(scope = USER_SCOPE) {
  const c = await issueCode(s.ctx, { client_id: 'frontend', scope });
  const r = await tokenRequest(s, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier ?? undefined }, auth.frontend);
  expect(r.statusCode).toBe(200);
  return { grant_id: c.grant_id, ...(r.json() as { access_token: string; id_token: string; expires_in: number }) };
}

/** A client's own access token (client_credentials), its actor token. */
async function ownToken(client: 'gateway' | 'billing'): Promise<string> {
  const r = await tokenRequest(s, { grant_type: 'client_credentials' }, auth[client]);
  expect(r.statusCode).toBe(200);
  return r.json().access_token;
}

const exchange = (body: Record<string, string | undefined>, authorization: string = auth.gateway) => tokenRequest(s, { grant_type: TOKEN_EXCHANGE, ...body }, authorization);

function introspect(token: string) {
  return s.app.inject({
    method: 'POST',
    url: '/introspect',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth.gateway },
    payload: new URLSearchParams({ token }).toString(),
  });
}

function expectError(r: { statusCode: number; json: () => { error: string; error_description: string } }, error: string, status = 400) {
  expect(r.statusCode).toBe(status);
  const j = r.json();
  expect(j.error).toBe(error);
  expect(j.error_description).toMatch(RFC6749_DESCRIPTION);
  return j.error_description;
}

describe('token exchange: impersonation (no actor_token)', () => {
  it('answers an access token for the audience, for the subject, with no act claim and no refresh token (RFC 8693 2.2.1)', async () => {
    const user = await signedIn();
    const r = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const j = r.json();
    expect(j).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: expect.any(Number) });
    expect(j.refresh_token).toBeUndefined();
    expect(j.id_token).toBeUndefined();
    const claims = claimsOf(j.access_token);
    expect(claims).toMatchObject({ iss: s.issuer, sub: ALICE.sub, aud: ORDERS_API, client_id: 'gateway', grant_id: user.grant_id });
    expect(claims.act).toBeUndefined();
    expect(JSON.parse(Buffer.from(j.access_token.split('.')[0], 'base64url').toString()).typ).toBe('at+jwt');
    // a live token of ours: introspection and userinfo take it
    expect((await introspect(j.access_token)).json()).toMatchObject({ active: true, sub: ALICE.sub, aud: ORDERS_API, client_id: 'gateway' });
    expect((await userinfo(s, j.access_token)).json()).toMatchObject({ sub: ALICE.sub, name: 'Alice Example' });
  });

  it('ends with the subject token\'s grant: revoking the grant stops the exchanged token', async () => {
    const user = await signedIn();
    const exchanged = (await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API })).json().access_token;
    expect((await introspect(exchanged)).json().active).toBe(true);
    await s.ctx.repos.grants.revokeGrant(user.grant_id);
    expect((await introspect(exchanged)).json()).toEqual({ active: false });
  });
});

describe('token exchange: delegation (actor_token)', () => {
  it('names the actor in the act claim (RFC 8693 4.1)', async () => {
    const user = await signedIn();
    const r = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, actor_token: await ownToken('gateway'), actor_token_type: ACCESS_TOKEN, audience: ORDERS_API });
    expect(r.statusCode).toBe(200);
    expect(claimsOf(r.json().access_token)).toMatchObject({ sub: ALICE.sub, client_id: 'gateway', act: { sub: 'gateway' } });
    // introspection tells a resource server who acts (RFC 8693 4.1)
    expect((await introspect(r.json().access_token)).json()).toMatchObject({ active: true, sub: ALICE.sub, act: { sub: 'gateway' } });
    // and the exchange is in the audit log, with who acted
    const jti = claimsOf(r.json().access_token).jti;
    const entry = (await s.ctx.repos.audit.recent(20)).find((e) => e.event === 'token_exchanged' && (e.detail as { jti?: string }).jti === jti);
    expect(entry).toMatchObject({ client_id: 'gateway', sub: ALICE.sub, detail: { aud: ORDERS_API, subject_client_id: 'frontend', act: { sub: 'gateway' } } });
  });

  it('nests the prior actor when the subject token already has an act claim, and keeps it without a new actor', async () => {
    const user = await signedIn();
    // hop 1: gateway acts for alice towards billing
    const hop1 = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, actor_token: await ownToken('gateway'), actor_token_type: ACCESS_TOKEN, audience: 'billing' });
    expect(hop1.statusCode).toBe(200);
    // hop 2: billing acts for alice, through gateway, towards the ledger (its one allowed audience)
    const hop2 = await exchange({ subject_token: hop1.json().access_token, subject_token_type: ACCESS_TOKEN, actor_token: await ownToken('billing'), actor_token_type: ACCESS_TOKEN }, auth.billing);
    expect(hop2.statusCode).toBe(200);
    expect(claimsOf(hop2.json().access_token)).toMatchObject({ sub: ALICE.sub, aud: LEDGER_API, client_id: 'billing', act: { sub: 'billing', act: { sub: 'gateway' } } });
    // without actor_token the chain of the subject token stays: an exchange never hides who acted
    const hop2b = await exchange({ subject_token: hop1.json().access_token, subject_token_type: ACCESS_TOKEN }, auth.billing);
    expect(claimsOf(hop2b.json().access_token).act).toEqual({ sub: 'gateway' });
  });

  it('refuses an actor_token that was not issued to the requesting client (invalid_request)', async () => {
    const user = await signedIn();
    const r = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, actor_token: await ownToken('billing'), actor_token_type: ACCESS_TOKEN, audience: ORDERS_API });
    expect(expectError(r, 'invalid_request')).toMatch(/actor_token was not issued to this client/);
  });

  it('refuses actor_token without actor_token_type, and actor_token_type alone (RFC 8693 2.1)', async () => {
    const user = await signedIn();
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, actor_token: await ownToken('gateway') }), 'invalid_request')).toMatch(/actor_token_type is missing/);
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, actor_token_type: ACCESS_TOKEN }), 'invalid_request')).toMatch(/without actor_token/);
  });

  it('refuses an invalid actor_token (invalid_request)', async () => {
    const user = await signedIn();
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, actor_token: 'not-a-token', actor_token_type: ACCESS_TOKEN, audience: ORDERS_API }), 'invalid_request')).toMatch(/actor_token/);
  });
});

describe('token exchange: audience policy (token_exchange.allowed_audiences)', () => {
  it('refuses an audience or resource the client may not exchange for (invalid_target, RFC 8693 2.2.2)', async () => {
    const user = await signedIn();
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: LEDGER_API }), 'invalid_target')).toMatch(/ledger/);
    expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, resource: 'https://evil.example.com' }), 'invalid_target');
    // one allowed and one not: refused as a whole
    expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API, resource: LEDGER_API }), 'invalid_target');
  });

  it('takes resource as the audience too, and asks which one when several are allowed and none is named', async () => {
    const user = await signedIn();
    const r = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, resource: ORDERS_API });
    expect(claimsOf(r.json().access_token).aud).toBe(ORDERS_API);
    // gateway may exchange for two audiences: it must name one
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN }), 'invalid_request')).toMatch(/audience or resource is required/);
  });
});

describe('token exchange: narrower than the subject token', () => {
  it('defaults to the scope the subject token and the client registration have in common', async () => {
    const user = await signedIn();
    // email is in the subject token but not registered for gateway
    const r = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API });
    expect(r.json().scope).toBe('openid profile orders:read orders:write');
    expect(claimsOf(r.json().access_token).scope).toBe('openid profile orders:read orders:write');
  });

  it('narrows to a requested subset', async () => {
    const user = await signedIn();
    const r = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API, scope: 'orders:read' });
    expect(r.statusCode).toBe(200);
    expect(r.json().scope).toBe('orders:read');
    expect(claimsOf(r.json().access_token).scope).toBe('orders:read');
  });

  it('refuses to widen the scope (invalid_scope)', async () => {
    const user = await signedIn('openid orders:read');
    // registered for gateway, but not granted to the subject token
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API, scope: 'orders:read orders:write' }), 'invalid_scope')).toMatch(/orders:write/);
    // in the subject token, but not registered for gateway
    const full = await signedIn();
    expect(expectError(await exchange({ subject_token: full.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API, scope: 'email' }), 'invalid_scope')).toMatch(/not registered/);
  });

  it('never outlives the subject token', async () => {
    const user = await signedIn();
    const subjectExp = claimsOf(user.access_token).exp as number;
    // billing is allowed one audience; a hop from a subject expiring in 40 s expires with it
    const short = await s.ctx.keystore.sign(
      { iss: s.issuer, sub: ALICE.sub, aud: 'billing', client_id: 'frontend', scope: 'orders:read', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 40, jti: randomToken(16) },
      { alg: 'RS256', typ: 'at+jwt' },
    );
    const r = await exchange({ subject_token: short, subject_token_type: ACCESS_TOKEN }, auth.billing);
    expect(r.statusCode).toBe(200);
    expect(r.json().expires_in).toBeLessThanOrEqual(40);
    expect(claimsOf(r.json().access_token).exp).toBe(claimsOf(short).exp);
    // and one from a normal subject token never later than it
    const normal = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API });
    expect(claimsOf(normal.json().access_token).exp as number).toBeLessThanOrEqual(subjectExp);
  });
});

describe('token exchange: subject tokens refused (invalid_request, RFC 8693 2.2.2)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const claims = () => ({ iss: s.issuer, sub: ALICE.sub, aud: 'gateway', client_id: 'frontend', scope: 'openid', iat: now() - 120, exp: now() + 600, jti: randomToken(16) });

  it('refuses an expired subject token', async () => {
    const expired = await s.ctx.keystore.sign({ ...claims(), exp: now() - 60 }, { alg: 'RS256', typ: 'at+jwt' });
    expect(expectError(await exchange({ subject_token: expired, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API }), 'invalid_request')).toMatch(/subject_token has expired/);
  });

  it('refuses a revoked subject token (by jti at /revoke, and by its grant)', async () => {
    const user = await signedIn();
    const revoke = await s.app.inject({ method: 'POST', url: '/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth.frontend }, payload: new URLSearchParams({ token: user.access_token }).toString() });
    expect(revoke.statusCode).toBe(200);
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API }), 'invalid_request')).toMatch(/invalid or revoked/);
    const other = await signedIn();
    await s.ctx.repos.grants.revokeGrant(other.grant_id);
    expectError(await exchange({ subject_token: other.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API }), 'invalid_request');
  });

  it('refuses foreign tokens: another key, another issuer, not a JWT', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'forged' }).sign(privateKey);
    expect(expectError(await exchange({ subject_token: forged, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API }), 'invalid_request')).toMatch(/invalid or revoked/);
    const elsewhere = await new SignJWT({ ...claims(), iss: 'https://other-issuer.example.com' }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(privateKey);
    expect(expectError(await exchange({ subject_token: elsewhere, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API }), 'invalid_request')).toMatch(/not issued by this server/);
    expectError(await exchange({ subject_token: 'opaque-garbage', subject_token_type: ACCESS_TOKEN, audience: ORDERS_API }), 'invalid_request');
    expectError(await exchange({ subject_token: 'a.b.c', subject_token_type: JWT, audience: ORDERS_API }), 'invalid_request');
  });

  it('refuses a subject token neither issued to the client nor naming it in its audience', async () => {
    const user = await signedIn();
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN }, auth.nosy), 'invalid_request')).toMatch(/not issued to this client/);
  });

  it('refuses a token that is not of the declared subject_token_type', async () => {
    const user = await signedIn();
    expect(expectError(await exchange({ subject_token: user.id_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API }, auth.frontend), 'invalid_request')).toMatch(/not an access token/);
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ID_TOKEN, audience: ORDERS_API }), 'invalid_request')).toMatch(/not an ID token/);
  });

  it('refuses a missing subject_token or subject_token_type, and types it does not know', async () => {
    const user = await signedIn();
    expect(expectError(await exchange({ subject_token_type: ACCESS_TOKEN }), 'invalid_request')).toMatch(/subject_token is missing/);
    expect(expectError(await exchange({ subject_token: user.access_token }), 'invalid_request')).toMatch(/subject_token_type is missing/);
    expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }), 'invalid_request')).toMatch(/not supported/);
  });
});

describe('token exchange: bad input', () => {
  it('answers malformed tokens and parameters with invalid_request, never a 500', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ iss: s.issuer, sub: ALICE.sub, client_id: 'gateway', aud: 'gateway', exp: 9999999999, iat: 1, jti: 'x' })}.`;
    const badHeader = `${Buffer.from('not json').toString('base64url')}.${b64({})}.sig`;
    for (const [what, token] of [
      ['alg none', unsigned],
      ['a header that is not JSON', badHeader],
      ['a huge value', 'x'.repeat(60_000)],
      ['control characters', 'a\u0000.b\n.c'],
    ]) {
      for (const type of [ACCESS_TOKEN, ID_TOKEN, JWT]) {
        const subject = await exchange({ subject_token: token, subject_token_type: type, audience: ORDERS_API });
        expect(subject.statusCode, `${what} as ${type}`).toBe(400);
        expect(subject.json().error, `${what} as ${type}`).toBe('invalid_request');
        const user = await signedIn();
        const actor = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, actor_token: token, actor_token_type: type, audience: ORDERS_API });
        expect(actor.json().error, `actor: ${what} as ${type}`).toBe('invalid_request');
      }
    }
  });
});

describe('token exchange: ID token as subject', () => {
  it('exchanges the client\'s own ID token for an access token with the openid scope only', async () => {
    const user = await signedIn();
    const r = await exchange({ subject_token: user.id_token, subject_token_type: ID_TOKEN }, auth.frontend);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', scope: 'openid' });
    expect(claimsOf(r.json().access_token)).toMatchObject({ sub: ALICE.sub, aud: ORDERS_API, client_id: 'frontend', auth_time: claimsOf(user.id_token).auth_time });
    expect(claimsOf(r.json().access_token).exp as number).toBeLessThanOrEqual(claimsOf(user.id_token).exp as number);
    // widening past openid is refused
    expectError(await exchange({ subject_token: user.id_token, subject_token_type: ID_TOKEN, scope: 'openid profile' }, auth.frontend), 'invalid_scope');
  });

  it('takes the jwt type as either kind of token', async () => {
    const user = await signedIn();
    const fromId = await exchange({ subject_token: user.id_token, subject_token_type: JWT }, auth.frontend);
    expect(fromId.statusCode).toBe(200);
    expect(fromId.json().scope).toBe('openid');
    const fromAccess = await exchange({ subject_token: user.access_token, subject_token_type: JWT, audience: ORDERS_API });
    expect(fromAccess.statusCode).toBe(200);
    expect(fromAccess.json().scope).toBe('openid profile orders:read orders:write');
  });

  it('refuses another client\'s ID token', async () => {
    const user = await signedIn();
    expect(expectError(await exchange({ subject_token: user.id_token, subject_token_type: ID_TOKEN, audience: ORDERS_API }), 'invalid_request')).toMatch(/not issued to this client/);
  });
});

describe('token exchange: requested_token_type', () => {
  it('issues an access token for access_token (the default) and jwt', async () => {
    const user = await signedIn();
    const asJwt = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API, requested_token_type: JWT });
    expect(asJwt.statusCode).toBe(200);
    expect(asJwt.json().issued_token_type).toBe(JWT);
    const asAt = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API, requested_token_type: ACCESS_TOKEN });
    expect(asAt.json().issued_token_type).toBe(ACCESS_TOKEN);
  });

  it('refuses types it does not issue (invalid_request, RFC 8693 2.2.2)', async () => {
    const user = await signedIn();
    for (const type of ['urn:ietf:params:oauth:token-type:refresh_token', ID_TOKEN, 'urn:ietf:params:oauth:token-type:saml2', 'nonsense']) {
      expect(expectError(await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, audience: ORDERS_API, requested_token_type: type }), 'invalid_request'), type).toMatch(/requested_token_type/);
    }
  });
});

describe('token exchange: clients', () => {
  it('refuses a client not registered for the grant (unauthorized_client)', async () => {
    const user = await signedIn();
    const r = await exchange({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN }, basic('service', 'service-secret-0123456789-0123456789-01234'));
    expectError(r, 'unauthorized_client');
  });

  it('is advertised in discovery', async () => {
    const meta = (await s.app.inject('/.well-known/openid-configuration')).json();
    expect(meta.grant_types_supported).toContain(TOKEN_EXCHANGE);
  });
});

describe('token exchange: registry', () => {
  const base = { client_id: 'x', client_secret: TX_SECRETS.gateway, grant_types: [TOKEN_EXCHANGE], token_exchange: { allowed_audiences: [ORDERS_API] } };
  const issues = (c: unknown) => {
    const r = clientSchema.safeParse(c);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts the grant with a policy on a confidential client', () => {
    expect(issues(base)).toEqual([]);
    expect(clientSchema.parse(base).token_exchange).toEqual({ allowed_audiences: [ORDERS_API] });
  });

  it('refuses the grant without a policy, a policy without the grant, a public client, and an empty policy', () => {
    expect(issues({ ...base, token_exchange: undefined })).toEqual([expect.stringMatching(/^token_exchange: is required/)]);
    expect(issues({ ...base, grant_types: ['client_credentials'] })).toEqual([expect.stringMatching(/^token_exchange: needs urn:ietf:params:oauth:grant-type:token-exchange/)]);
    expect(issues({ ...base, client_secret: undefined, token_endpoint_auth_method: 'none' })).toEqual([expect.stringMatching(/^grant_types: token exchange needs a confidential client/)]);
    expect(issues({ ...base, token_exchange: { allowed_audiences: [] } })).not.toEqual([]);
  });
});
