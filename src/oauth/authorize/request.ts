// The authorization request (RFC 6749 §4.1.1, §4.2.1; OIDC Core §3.1.2.1, §3.2.2.1), validated
// in the order RFC 6749 §4.1.2.1 requires: first the client and its redirect URI, which decide
// whether an error may be sent back at all (if not, the person sees a page and is not
// redirected), then everything else, whose errors go to the client's redirect_uri.
import type { AppContext } from '../../context.js';
import type { Client } from '../../repositories/clients.js';
import { parseClaimsParameter, type ClaimsRequest } from '../claims.js';
import { AuthorizationRedirectError, OAuthError, PageError, type OAuthErrorCode } from '../errors.js';
import { isValidCodeChallenge } from '../pkce.js';
import { allowedScopes, parseScope } from '../scopes.js';
import { verifyIdTokenHint, type IdTokenHint } from './id-token-hint.js';
import type { RequestOrigin } from './interaction.js';
import { isRegisteredRedirectUri } from './redirect-uri.js';
import { resolveRequestSource } from './request-source.js';
import type { ResponseMode } from './response-modes.js';

export const RESPONSE_TYPES = ['code', 'id_token', 'id_token token'] as const;
export type ResponseType = (typeof RESPONSE_TYPES)[number];
export const RESPONSE_MODES: readonly ResponseMode[] = ['query', 'fragment', 'form_post'];
/** OIDC Core §3.1.2.1; select_account is treated as login (one account per browser session). */
export const PROMPT_VALUES = ['none', 'login', 'consent', 'select_account'] as const;
export type Prompt = (typeof PROMPT_VALUES)[number];

export interface AuthorizationRequest {
  client: Client;
  /** where the response goes: as sent, or the client's only registered URI when it was omitted */
  redirect_uri: string;
  response_type: ResponseType;
  response_mode: ResponseMode;
  /** the requested scopes the client registered, in request order */
  scopes: string[];
  state?: string | undefined;
  nonce?: string | undefined;
  code_challenge?: string | undefined;
  code_challenge_method?: 'S256' | undefined;
  /** RFC 9449 §10: the thumbprint of the DPoP key that must redeem the code */
  dpop_jkt?: string | undefined;
  prompt: Set<Prompt>;
  max_age?: number | undefined;
  id_token_hint?: IdTokenHint | undefined;
  login_hint?: string | undefined;
  claims?: ClaimsRequest | undefined;
  /**
   * the parameters (single values): as received, or from the request object or pushed request;
   * carried through the login and consent pages
   */
  params: Record<string, string>;
  /** whether the parameters came from a pushed request (RFC 9126) or a signed request object (RFC 9101) */
  origin: RequestOrigin;
}

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** RFC 6749 §3.1.1: the order of space-delimited response_type values does not matter. */
export function normalizeResponseType(value: string): string {
  return value.split(' ').filter(Boolean).sort().join(' ');
}

export function isImplicit(responseType: string): boolean {
  return responseType === 'id_token' || responseType === 'id_token token';
}

/** A response type that returns a token from the authorization endpoint (supported or not). */
function returnsToken(responseType: string): boolean {
  return responseType.split(' ').some((v) => v === 'token' || v === 'id_token');
}

/** Single-valued parameters, and the names of those sent more than once (RFC 6749 §3.1). */
function readParams(source: unknown): { params: Record<string, string>; repeated: string[] } {
  const params: Record<string, string> = {};
  const repeated: string[] = [];
  if (source && typeof source === 'object') {
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      if (Array.isArray(v)) repeated.push(k);
      // RFC 6749 §3.1: parameters sent without a value are treated as omitted
      else if (typeof v === 'string' && v !== '') params[k] = v;
    }
  }
  return { params, repeated };
}

/**
 * The response mode errors are sent with: the one the response would have used, or the response
 * type's default (OAuth 2.0 Multiple Response Type Encoding Practices §2.1: fragment when tokens
 * are returned).
 */
function errorResponseMode(params: Record<string, string>): ResponseMode {
  const tokens = returnsToken(normalizeResponseType(params.response_type ?? ''));
  const asked = params.response_mode;
  const valid = asked !== undefined && (RESPONSE_MODES as string[]).includes(asked) && !(tokens && asked === 'query');
  return valid ? (asked as ResponseMode) : tokens ? 'fragment' : 'query';
}

/**
 * A refused request object or request_uri goes back to the client when the request names it and
 * a registered redirect_uri (RFC 6749 §4.1.2.1), else it is shown to the person.
 */
async function sourceError(ctx: AppContext, e: unknown, sent: { params: Record<string, string>; repeated: string[] }): Promise<unknown> {
  if (!(e instanceof OAuthError)) return e;
  try {
    const { redirect_uri } = await resolveClientAndRedirect(ctx, sent.params, sent.repeated);
    return new AuthorizationRedirectError(e.error, e.description, { redirect_uri, response_mode: errorResponseMode(sent.params), state: sent.params.state });
  } catch {
    return e;
  }
}

/** The client and redirect URI, or a page for the person (never a redirect: RFC 6749 §4.1.2.1). */
export async function resolveClientAndRedirect(
  ctx: AppContext,
  params: Record<string, string>,
  repeated: string[],
): Promise<{ client: Client; redirect_uri: string; redirect_uri_sent: boolean }> {
  if (repeated.includes('client_id') || repeated.includes('redirect_uri'))
    throw new PageError('error.link_invalid_title', 'error.link_repeated');
  const clientId = params.client_id;
  if (!clientId) throw new PageError('error.link_invalid_title', 'error.link_no_client');
  const client = await ctx.clients.get(clientId);
  if (!client) throw new PageError('error.unknown_client_title', 'error.unknown_client', { client_id: clientId });
  const sent = params.redirect_uri;
  if (sent === undefined) {
    // RFC 6749 §3.1.2.3: may be omitted only when exactly one redirect URI is registered
    if (client.redirect_uris.length === 1) return { client, redirect_uri: client.redirect_uris[0]!, redirect_uri_sent: false };
    throw new PageError('error.link_invalid_title', client.redirect_uris.length === 0 ? 'error.link_no_redirect_none' : 'error.link_no_redirect_many', { client: client.client_name });
  }
  if (!isRegisteredRedirectUri(client, sent))
    throw new PageError('error.link_invalid_title', 'error.redirect_unregistered', { client: client.client_name });
  return { client, redirect_uri: sent, redirect_uri_sent: true };
}

/**
 * Validates an authorization request. Throws PageError while the client or redirect URI is in
 * doubt, AuthorizationRedirectError for everything after. `pushedBy` is the authenticated client
 * at the pushed authorization request endpoint (RFC 9126 §2.1: validated as /authorize would).
 */
export async function parseAuthorizationRequest(ctx: AppContext, source: unknown, pushedBy?: Client): Promise<AuthorizationRequest> {
  const sent = readParams(source);
  let resolved;
  try {
    resolved = await resolveRequestSource(ctx, sent, pushedBy);
  } catch (e) {
    throw pushedBy ? e : await sourceError(ctx, e, sent);
  }
  const { params, repeated, origin } = resolved;
  const { client, redirect_uri, redirect_uri_sent } = await resolveClientAndRedirect(ctx, params, repeated);

  const responseType = normalizeResponseType(params.response_type ?? '');
  const implicit = isImplicit(responseType);
  const askedMode = params.response_mode;
  const response_mode = errorResponseMode(params);
  const state = params.state;
  const fail = (error: OAuthErrorCode, description: string) => new AuthorizationRedirectError(error, description, { redirect_uri, response_mode, state });

  if (repeated.length) throw fail('invalid_request', `parameter ${repeated[0]} is repeated (RFC 6749 section 3.1)`);
  // RFC 9126 §5 and §6: PAR required server-wide or for this client
  if (!origin.pushed && (ctx.env.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS || client.require_pushed_authorization_requests))
    throw fail('invalid_request', 'authorization requests must be pushed to the pushed authorization request endpoint first (RFC 9126); send its request_uri');
  // RFC 9101 §10.5: require_signed_request_object
  if (client.require_signed_request_object && !origin.signed) throw fail('invalid_request', 'this client must send its authorization request as a signed request object (RFC 9101)');

  // RFC 6749 §3.1.1
  if (!params.response_type) throw fail('invalid_request', 'response_type is missing');
  if (!(RESPONSE_TYPES as readonly string[]).includes(responseType))
    throw fail('unsupported_response_type', `response_type ${params.response_type} is not supported; use code, id_token or "id_token token"`);
  const response_type = responseType as ResponseType;
  // RFC 6749 §4.1.2.1: the client is not authorized to use this response type
  if (!(client.response_types as string[]).includes(response_type))
    throw fail('unauthorized_client', `this client is not registered for response_type ${response_type}`);

  if (askedMode !== undefined && !(RESPONSE_MODES as string[]).includes(askedMode))
    throw fail('invalid_request', `response_mode ${askedMode} is not supported; use query, fragment or form_post`);
  // OAuth 2.0 Multiple Response Type Encoding Practices §2.1: tokens must not go in the query
  if (implicit && askedMode === 'query') throw fail('invalid_request', `response_mode query is not allowed for response_type ${response_type}`);

  // RFC 6749 §3.3: unregistered scope values are dropped; nothing left is invalid_scope
  const requested = parseScope(params.scope);
  const bad = requested.find((s) => !SCOPE_TOKEN.test(s));
  if (bad !== undefined) throw fail('invalid_scope', 'scope contains characters RFC 6749 section 3.3 does not allow');
  let scopes = allowedScopes(requested, client.scope);
  // OIDC Core §11: offline_access is ignored unless the response type returns a code
  if (implicit) scopes = scopes.filter((s) => s !== 'offline_access');
  if (scopes.length === 0)
    throw fail('invalid_scope', requested.length ? `none of the requested scopes (${requested.join(' ')}) is registered for this client` : 'scope is missing');
  const openid = scopes.includes('openid');
  // OIDC Core §3.2.2.1: response types that return an ID token are OpenID Connect requests
  if (implicit && !openid) throw fail('invalid_scope', `response_type ${response_type} requires the openid scope`);
  // OIDC Core §3.1.2.1: redirect_uri is required in OpenID Connect requests
  if (openid && !redirect_uri_sent) throw fail('invalid_request', 'redirect_uri is required in an OpenID Connect request');
  // OIDC Core §3.2.2.1: nonce is required when an ID token comes from the authorization endpoint
  if (implicit && !params.nonce) throw fail('invalid_request', `nonce is required for response_type ${response_type}`);

  // RFC 7636 §4.3 and RFC 9700 §2.1.1: S256 only; required for public clients and require_pkce clients
  let code_challenge: string | undefined;
  let code_challenge_method: 'S256' | undefined;
  if (response_type === 'code') {
    const challenge = params.code_challenge;
    const method = params.code_challenge_method;
    if (challenge === undefined && method !== undefined) throw fail('invalid_request', 'code_challenge_method was sent without code_challenge');
    if (challenge !== undefined) {
      // RFC 7636 §4.3: a missing method means plain, which is not supported
      if (method !== 'S256') throw fail('invalid_request', `code_challenge_method must be S256${method ? ` (${method} is not supported)` : ' (plain, the default, is not supported)'}`);
      if (!isValidCodeChallenge(challenge)) throw fail('invalid_request', 'code_challenge must be the 43-character BASE64URL of a SHA-256 (RFC 7636 section 4.2)');
      code_challenge = challenge;
      code_challenge_method = 'S256';
    } else if (client.require_pkce) {
      throw fail('invalid_request', 'code_challenge is required for this client (PKCE, RFC 7636) with code_challenge_method S256');
    }
  }

  // RFC 9449 §10: dpop_jkt is the base64url SHA-256 JWK thumbprint (RFC 7638) of the DPoP key
  const dpop_jkt = params.dpop_jkt;
  if (dpop_jkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(dpop_jkt)) throw fail('invalid_request', 'dpop_jkt must be the base64url SHA-256 JWK thumbprint (RFC 7638) of the DPoP key');

  // OIDC Core §3.1.2.1: prompt values; none must stand alone
  const promptValues = parseScope(params.prompt);
  const unknownPrompt = promptValues.find((p) => !(PROMPT_VALUES as readonly string[]).includes(p));
  if (unknownPrompt !== undefined) throw fail('invalid_request', `prompt value ${unknownPrompt} is not supported`);
  const prompt = new Set(promptValues as Prompt[]);
  if (prompt.has('none') && prompt.size > 1) throw fail('invalid_request', 'prompt=none cannot be combined with other prompt values');

  // OIDC Core §3.1.2.1: max_age is a non-negative number of seconds
  let max_age: number | undefined;
  if (params.max_age !== undefined) {
    if (!/^\d{1,10}$/.test(params.max_age)) throw fail('invalid_request', 'max_age must be a non-negative integer (seconds)');
    max_age = Number(params.max_age);
  }

  let id_token_hint: IdTokenHint | undefined;
  if (params.id_token_hint !== undefined) {
    id_token_hint = await verifyIdTokenHint(ctx, params.id_token_hint);
    if (!id_token_hint) throw fail('invalid_request', 'id_token_hint is not an ID token issued by this server');
    if (!id_token_hint.aud.includes(client.client_id)) throw fail('invalid_request', 'id_token_hint was not issued to this client');
  }

  let claims: ClaimsRequest | undefined;
  try {
    claims = parseClaimsParameter(params.claims);
  } catch (e) {
    if (e instanceof OAuthError) throw fail(e.error, e.description);
    throw e;
  }

  return {
    client,
    redirect_uri,
    response_type,
    response_mode,
    scopes,
    state,
    nonce: params.nonce,
    code_challenge,
    code_challenge_method,
    dpop_jkt,
    prompt,
    max_age,
    id_token_hint,
    login_hint: params.login_hint,
    claims,
    params,
    origin,
  };
}
