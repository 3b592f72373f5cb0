// ID tokens signed with the algorithm each client registered (id_token_signed_response_alg,
// OIDC Registration §2; issue 9 point 6): PS256 and EdDSA beside RS256 and ES256, checked
// by openid-client as a real relying party checks them (its alg check and, with non-repudiation
// checks on, the signature against the JWKS from discovery), then used as id_token_hint at logout.
import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { Browser } from '../conformance/support/browser.js';
import { codeFlow, relyingParty } from '../conformance/support/rp.js';
import { ALICE, defaultClients, REDIRECT, startTestServer, type TestServer } from '../support/harness.js';

// ES256 ID tokens worked before issue 9; test/conformance covers RS256
const ALGS = ['PS256', 'EdDSA'] as const;
const SECRET = 'id-token-alg-secret-0123456789-0123456789';
const BYE = 'http://127.0.0.1:8080/bye';
const IMPLICIT_REDIRECT = 'https://implicit-eddsa.example.com/cb';

const webClient = (alg: string) =>
  clientSchema.parse({
    client_id: `web-${alg}`,
    client_secret: SECRET,
    redirect_uris: [REDIRECT],
    post_logout_redirect_uris: [BYE],
    grant_types: ['authorization_code'],
    scope: 'openid profile',
    skip_consent: true,
    id_token_signed_response_alg: alg,
  });

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    listen: true,
    clients: [
      ...defaultClients(),
      ...ALGS.map(webClient),
      clientSchema.parse({
        client_id: 'implicit-EdDSA',
        redirect_uris: [IMPLICIT_REDIRECT],
        grant_types: ['implicit'],
        response_types: ['id_token token'],
        token_endpoint_auth_method: 'none',
        scope: 'openid profile',
        skip_consent: true,
        id_token_signed_response_alg: 'EdDSA',
      }),
    ],
  });
});
afterAll(async () => s?.close());

/** The JWKS as a relying party finds it: at the jwks_uri of discovery. */
async function jwks(): Promise<JSONWebKeySet> {
  const meta = (await (await fetch(`${s.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  return (await fetch(meta.jwks_uri)).json() as Promise<JSONWebKeySet>;
}

describe('ID token signing algorithms', () => {
  it('advertises RS256, PS256, ES256 and EdDSA in discovery (id_token_signing_alg_values_supported)', async () => {
    const meta = (await (await fetch(`${s.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.id_token_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
  });

  for (const alg of ALGS) {
    it(`signs the ID tokens of a client registered with ${alg}; openid-client verifies them; the token is a good id_token_hint at logout`, async () => {
      const rp = await relyingParty(s.issuer, `web-${alg}`, client.ClientSecretBasic(SECRET), { id_token_signed_response_alg: alg });
      // verify the ID token's signature with the JWKS from discovery, not only its claims
      client.enableNonRepudiationChecks(rp);
      const browser = new Browser(s.issuer);
      const { tokens } = await codeFlow(rp, browser, { redirect_uri: REDIRECT, scope: 'openid profile' });
      const idToken = tokens.id_token!;
      expect(decodeProtectedHeader(idToken)).toMatchObject({ alg, typ: 'JWT' });
      expect(tokens.claims()).toMatchObject({ sub: ALICE.sub, aud: `web-${alg}`, iss: s.issuer });
      // the hint verifies (signed by us, any of our algorithms), so the session ends at once and
      // the browser goes back to the client
      const out = await browser.get(client.buildEndSessionUrl(rp, { id_token_hint: idToken, post_logout_redirect_uri: BYE, state: 'st' }).href);
      expect(out).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:8080\/bye\?state=st$/) });
    });
  }

  it('an openid-client relying party that registered no algorithm accepts EdDSA because discovery lists it', async () => {
    const rp = await relyingParty(s.issuer, 'web-EdDSA', client.ClientSecretBasic(SECRET));
    client.enableNonRepudiationChecks(rp);
    const { tokens } = await codeFlow(rp, new Browser(s.issuer), { redirect_uri: REDIRECT, scope: 'openid' });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('EdDSA');
  });

  it('puts an at_hash made with SHA-512 in an EdDSA ID token (implicit "id_token token", OIDC Core §3.2.2.10)', async () => {
    const rp = await relyingParty(s.issuer, 'implicit-EdDSA', client.None(), { id_token_signed_response_alg: 'EdDSA' });
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: IMPLICIT_REDIRECT, scope: 'openid', nonce: client.randomNonce(), response_type: 'id_token token' });
    const cb = await new Browser(s.issuer).authorize(url.href, { username: ALICE.username, password: ALICE.password });
    const accessToken = cb.params.get('access_token')!;
    const { payload, protectedHeader } = await jwtVerify(cb.params.get('id_token')!, createLocalJWKSet(await jwks()), { issuer: s.issuer, audience: 'implicit-EdDSA' });
    expect(protectedHeader.alg).toBe('EdDSA');
    const sha512 = createHash('sha512').update(accessToken).digest();
    expect(payload.at_hash).toBe(sha512.subarray(0, 32).toString('base64url'));
  });
});
