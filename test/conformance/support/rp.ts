// A relying party built with openid-client, the way a real app configures it, plus the steps of
// a code flow: build the authorization URL (PKCE, state, nonce), walk it with the Browser, and
// redeem the callback.
//
//   const rp = await relyingParty(s.issuer, 'web', client.ClientSecretBasic(SECRETS.web));
//   const { tokens } = await codeFlow(rp, new Browser(s.issuer), { redirect_uri: REDIRECT, scope: 'openid email' });
import * as client from 'openid-client';
import { ALICE } from '../../support/harness.js';
import { Browser, type Callback } from './browser.js';

/** openid-client configured from discovery; http issuers are allowed (tests listen on 127.0.0.1). */
export async function relyingParty(issuer: string, clientId: string, auth: client.ClientAuth = client.None(), metadata: Partial<client.ClientMetadata> = {}): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, metadata, auth, { execute: [client.allowInsecureRequests] });
}

export interface AuthorizationChecks {
  pkceCodeVerifier?: string;
  expectedState: string;
  expectedNonce?: string;
}

export interface AuthorizationStart {
  url: URL;
  checks: AuthorizationChecks;
}

export interface StartOptions {
  redirect_uri: string;
  scope?: string;
  /** default true: send an S256 code_challenge */
  pkce?: boolean;
  /** default true when scope has openid */
  nonce?: boolean;
  /** further request parameters (response_mode, prompt, max_age, claims, ...) */
  params?: Record<string, string>;
}

/** The authorization URL with a fresh state, nonce and PKCE pair. */
export async function startAuthorization(rp: client.Configuration, o: StartOptions): Promise<AuthorizationStart> {
  const scope = o.scope ?? 'openid profile email offline_access';
  const expectedState = client.randomState();
  const params: Record<string, string> = { redirect_uri: o.redirect_uri, response_type: 'code', scope, state: expectedState };
  const checks: AuthorizationChecks = { expectedState };
  if (o.pkce ?? true) {
    checks.pkceCodeVerifier = client.randomPKCECodeVerifier();
    params.code_challenge = await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier);
    params.code_challenge_method = 'S256';
  }
  if (o.nonce ?? scope.split(' ').includes('openid')) {
    checks.expectedNonce = client.randomNonce();
    params.nonce = checks.expectedNonce;
  }
  Object.assign(params, o.params ?? {});
  return { url: client.buildAuthorizationUrl(rp, params), checks };
}

/** What the client receives at its redirect_uri, as the URL or Request openid-client expects. */
export function callbackInput(cb: Callback): URL | Request {
  if (cb.via === 'redirect') return new URL(cb.url);
  // response_mode=form_post: the browser POSTs the fields to the redirect_uri
  return new Request(cb.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: cb.params.toString() });
}

export interface CodeFlowOptions extends StartOptions {
  username?: string;
  password?: string;
  decision?: 'allow' | 'deny';
}

export interface CodeFlowResult {
  tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  callback: Callback;
  checks: AuthorizationChecks;
}

/** Signs in at the browser (ALICE by default) and redeems the code. */
export async function signIn(rp: client.Configuration, browser: Browser, o: CodeFlowOptions): Promise<{ callback: Callback; checks: AuthorizationChecks }> {
  const { url, checks } = await startAuthorization(rp, o);
  const callback = await browser.authorize(url.href, { username: o.username ?? ALICE.username, password: o.password ?? ALICE.password, decision: o.decision ?? 'allow' });
  return { callback, checks };
}

export async function codeFlow(rp: client.Configuration, browser: Browser, o: CodeFlowOptions): Promise<CodeFlowResult> {
  const { callback, checks } = await signIn(rp, browser, o);
  const tokens = await client.authorizationCodeGrant(rp, callbackInput(callback), checks);
  return { tokens, callback, checks };
}

export interface Refusal {
  status: number;
  error: string;
  error_description?: string | undefined;
}

/**
 * The OAuth error of a refused call, or a failure when it succeeded. openid-client raises
 * ResponseBodyError for a JSON error body, and WWWAuthenticateChallengeError when the answer also
 * carries a challenge (401 invalid_client after Basic authentication, RFC 6749 §5.2); the body
 * is read from that one's response.
 */
export async function refusal(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (e) {
    if (e instanceof client.ResponseBodyError) return { status: e.status, error: e.error, error_description: e.error_description };
    if (e instanceof client.WWWAuthenticateChallengeError) {
      const body = (await e.response.json()) as { error: string; error_description?: string };
      return { status: e.status, error: body.error, error_description: body.error_description };
    }
    throw e;
  }
  throw new Error('expected the server to refuse, but it answered with success');
}

/** Every response openid-client receives through this configuration from now on (for header checks). */
export function recordResponses(rp: client.Configuration): { url: string; response: Response }[] {
  const seen: { url: string; response: Response }[] = [];
  rp[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options as RequestInit);
    seen.push({ url, response });
    return response;
  };
  return seen;
}
