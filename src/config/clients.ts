// The client registry (INTERFACE.md "Client registry"): CLIENTS_FILE, RFC 7591 field names.
// Parsed with zod; every refusal names the client and the field, e.g.
//   clients[2].redirect_uris[0]: must be an absolute URL without a fragment
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './env.js';
import { parseConfigFile } from './interpolate.js';

export const GRANT_TYPES = [
  'authorization_code',
  'implicit',
  'refresh_token',
  'client_credentials',
  'password',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
] as const;
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const RESPONSE_TYPES = ['code', 'id_token', 'id_token token'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
/** OIDC Core §8: public (one sub for every client) or pairwise (one per sector). */
export const SUBJECT_TYPES = ['public', 'pairwise'] as const;
/** Algorithms a request object (RFC 9101) may be signed with; never none. */
export const REQUEST_OBJECT_SIGNING_ALGS = ['RS256', 'ES256', 'PS256', 'EdDSA'] as const;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function isLoopbackHttp(uri: string): boolean {
  try {
    const u = new URL(uri);
    return u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname);
  } catch {
    return false;
  }
}

/**
 * Plain http to anything but a loopback address (RFC 8252 §7.3 allows loopback for native apps).
 * URL parsing lower-cases the scheme (RFC 3986 §3.1: case-insensitive), so HTTP: counts too.
 */
function isNonLoopbackHttp(uri: string): boolean {
  return URL.canParse(uri) && new URL(uri).protocol === 'http:' && !isLoopbackHttp(uri);
}

// RFC 6749 §3.1.2: absolute URI, no fragment. Custom schemes (com.example.app:/cb) are fine
// for native apps (RFC 8252 §7.1).
// Schemes that run or read something in the browser instead of reaching the client are never
// a redirect target (RFC 9700 §4.1 and §4.11: the response would carry codes or tokens into
// script or local content; OIDC Registration §2 names javascript: explicitly).
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:']);
const redirectUri = z
  .string()
  .refine((s) => {
    if (s.includes('#')) return false;
    try {
      const u = new URL(s);
      return u.protocol.length > 1 && !!(u.host || u.pathname);
    } catch {
      return false;
    }
  }, 'must be an absolute URL without a fragment')
  .refine(
    (s) => !URL.canParse(s) || !FORBIDDEN_SCHEMES.has(new URL(s).protocol),
    'must not use a javascript:, data:, vbscript:, file:, blob:, about: or filesystem: scheme',
  );

// Back-Channel Logout 1.0 §2.2: an absolute http(s) URL, which may have a query but no fragment
const backchannelLogoutUri = z
  .url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' })
  .refine((s) => !s.includes('#'), 'must not have a fragment (Back-Channel Logout 1.0 section 2.2)');

const scopeString = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be space-separated scope tokens (RFC 6749 §3.3)');

const ttl = z.number().int().positive().max(31_536_000);

const jwk = z.looseObject({ kty: z.string() });

export const clientSchema = z
  .strictObject({
    $comment: z.string().optional(),
    client_id: z
      .string()
      .min(1, 'is required')
      .max(255)
      .regex(/^[\x21-\x7E]+$/, 'must be visible ASCII without spaces'),
    client_secret: z.string().min(32, 'must be at least 32 characters (use a long random value)').optional(),
    client_name: z.string().min(1).max(200).optional(),
    redirect_uris: z.array(redirectUri).default([]),
    post_logout_redirect_uris: z.array(redirectUri).default([]),
    grant_types: z.array(z.enum(GRANT_TYPES)).min(1).default(['authorization_code']),
    response_types: z.array(z.enum(RESPONSE_TYPES)).optional(),
    token_endpoint_auth_method: z.enum(AUTH_METHODS).optional(),
    jwks: z.object({ keys: z.array(jwk).min(1) }).optional(),
    jwks_uri: z.url({ protocol: /^https?$/ }).optional(),
    scope: scopeString.default('openid'),
    require_pkce: z.boolean().optional(),
    skip_consent: z.boolean().default(false),
    id_token_signed_response_alg: z.enum(SIGNING_ALGS).default('RS256'),
    access_token_ttl: ttl.optional(),
    id_token_ttl: ttl.optional(),
    refresh_token_ttl: ttl.optional(),
    // default audience of access tokens; also the resources (RFC 8707) this client may ask for
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    // RFC 9126 §6: authorization requests only through the pushed authorization request endpoint
    require_pushed_authorization_requests: z.boolean().default(false),
    // RFC 9101 §10.5: authorization requests only as a signed request object; §10.1: its algorithm
    require_signed_request_object: z.boolean().default(false),
    request_object_signing_alg: z.enum(REQUEST_OBJECT_SIGNING_ALGS).optional(),
    // RFC 8693 §2.1: the audiences (audience or resource values) this client may exchange tokens for
    token_exchange: z.strictObject({ allowed_audiences: z.array(z.string().min(1)).min(1) }).optional(),
    // OpenID Connect Back-Channel Logout 1.0 §2.2
    backchannel_logout_uri: backchannelLogoutUri.optional(),
    backchannel_logout_session_required: z.boolean().default(false),
    // OIDC Core §8 and §8.1; OIDC Registration §2
    subject_type: z.enum(SUBJECT_TYPES).default('public'),
    sector_identifier_uri: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).optional(),
  })
  .transform((c, ctx) => {
    const method = c.token_endpoint_auth_method ?? (c.client_secret ? 'client_secret_basic' : c.jwks || c.jwks_uri ? 'private_key_jwt' : 'none');
    const isPublic = method === 'none';
    const grants = new Set(c.grant_types);
    const responseTypes =
      c.response_types ?? (grants.has('implicit') && !grants.has('authorization_code') ? ['id_token' as const] : grants.has('authorization_code') ? ['code' as const] : []);
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

    if ((method === 'client_secret_basic' || method === 'client_secret_post') && !c.client_secret)
      issue(['client_secret'], `is required for token_endpoint_auth_method ${method}`);
    if (method === 'none' && c.client_secret) issue(['client_secret'], 'must not be set for a public client (token_endpoint_auth_method none)');
    if (method === 'private_key_jwt' && !c.jwks && !c.jwks_uri) issue(['jwks'], 'jwks or jwks_uri is required for private_key_jwt');
    if (method === 'private_key_jwt' && c.client_secret) issue(['client_secret'], 'must not be set for private_key_jwt');
    // A public client cannot keep a code from being redeemed by someone else without PKCE (RFC 9700 §2.1.1).
    if (isPublic && c.require_pkce === false) issue(['require_pkce'], 'cannot be false for a public client (token_endpoint_auth_method none)');
    if (isPublic && (grants.has('client_credentials') || grants.has('password')))
      issue(['grant_types'], 'client_credentials and password need a confidential client (RFC 6749 §4.3, §4.4)');
    const hasImplicitResponse = responseTypes.some((r) => r !== 'code');
    if (grants.has('implicit') && !hasImplicitResponse) issue(['response_types'], 'grant_types has implicit but response_types has no id_token or "id_token token"');
    if (hasImplicitResponse && !grants.has('implicit')) issue(['grant_types'], 'response_types has an implicit response type but grant_types lacks implicit');
    if (responseTypes.includes('code') && !grants.has('authorization_code')) issue(['grant_types'], 'response_types has code but grant_types lacks authorization_code');
    if ((grants.has('authorization_code') || grants.has('implicit')) && c.redirect_uris.length === 0)
      issue(['redirect_uris'], 'at least one redirect URI is required for authorization_code or implicit');
    if ((c.require_signed_request_object || c.request_object_signing_alg) && !c.jwks && !c.jwks_uri)
      issue([c.require_signed_request_object ? 'require_signed_request_object' : 'request_object_signing_alg'], 'needs jwks or jwks_uri, the keys request objects are verified with');
    if (grants.has('refresh_token') && grants.size === 1) issue(['grant_types'], 'refresh_token alone cannot obtain a first token');
    if (grants.has(TOKEN_EXCHANGE_GRANT_TYPE) && isPublic) issue(['grant_types'], 'token exchange needs a confidential client (RFC 8693 §2.1)');
    if (grants.has(TOKEN_EXCHANGE_GRANT_TYPE) && !c.token_exchange) issue(['token_exchange'], 'is required with the token-exchange grant: list allowed_audiences');
    if (c.token_exchange && !grants.has(TOKEN_EXCHANGE_GRANT_TYPE)) issue(['token_exchange'], `needs ${TOKEN_EXCHANGE_GRANT_TYPE} in grant_types`);
    if (c.backchannel_logout_session_required && !c.backchannel_logout_uri) issue(['backchannel_logout_session_required'], 'needs backchannel_logout_uri');
    if (c.subject_type === 'pairwise' && !c.sector_identifier_uri) {
      // OIDC Core §8.1: the sector is the host of the redirect URIs; with several hosts (or none)
      // the client must register a sector_identifier_uri
      const hosts = new Set(c.redirect_uris.map((u) => (URL.canParse(u) ? new URL(u).hostname : '')));
      if (hosts.size !== 1 || hosts.has(''))
        issue(['sector_identifier_uri'], `is required for subject_type pairwise when the redirect URIs do not share one host (OIDC Core section 8.1); they have ${hosts.size === 0 ? 'none' : [...hosts].map((h) => h || '(no host)').join(', ')}`);
    }
    if (c.sector_identifier_uri && c.subject_type !== 'pairwise') issue(['sector_identifier_uri'], 'is used only with subject_type pairwise');

    return {
      client_id: c.client_id,
      client_secret: c.client_secret,
      client_name: c.client_name ?? c.client_id,
      redirect_uris: c.redirect_uris,
      post_logout_redirect_uris: c.post_logout_redirect_uris,
      grant_types: c.grant_types,
      response_types: responseTypes,
      token_endpoint_auth_method: method,
      jwks: c.jwks,
      jwks_uri: c.jwks_uri,
      scope: c.scope,
      require_pkce: isPublic ? true : (c.require_pkce ?? true),
      skip_consent: c.skip_consent,
      id_token_signed_response_alg: c.id_token_signed_response_alg,
      access_token_ttl: c.access_token_ttl,
      id_token_ttl: c.id_token_ttl,
      refresh_token_ttl: c.refresh_token_ttl,
      audience: c.audience === undefined ? [] : Array.isArray(c.audience) ? c.audience : [c.audience],
      require_pushed_authorization_requests: c.require_pushed_authorization_requests,
      require_signed_request_object: c.require_signed_request_object,
      request_object_signing_alg: c.request_object_signing_alg,
      token_exchange: c.token_exchange,
      backchannel_logout_uri: c.backchannel_logout_uri,
      backchannel_logout_session_required: c.backchannel_logout_session_required,
      subject_type: c.subject_type,
      sector_identifier_uri: c.sector_identifier_uri,
    };
  });

export const registrySchema = z
  .strictObject({
    $schema: z.string().optional(),
    clients: z.array(clientSchema),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.clients.forEach((c, i) => {
      if (seen.has(c.client_id)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'client_id'], message: `duplicate client_id "${c.client_id}"` });
      seen.add(c.client_id);
    });
  });

export type ClientConfig = z.output<typeof clientSchema>;

export interface RegistryOptions {
  production: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Checks that only a production deployment needs (INTERFACE.md: NODE_ENV=production). */
function productionIssues(clients: ClientConfig[]): string[] {
  const problems: string[] = [];
  clients.forEach((c, i) => {
    c.redirect_uris.forEach((uri, j) => {
      if (isNonLoopbackHttp(uri))
        problems.push(`clients[${i}].redirect_uris[${j}]: http is allowed only for loopback addresses in production (use https)`);
    });
    c.post_logout_redirect_uris.forEach((uri, j) => {
      if (isNonLoopbackHttp(uri))
        problems.push(`clients[${i}].post_logout_redirect_uris[${j}]: http is allowed only for loopback addresses in production (use https)`);
    });
    // Back-Channel Logout 1.0 §2.2 and OIDC Core §8.1: reached from the server, https only
    if (c.backchannel_logout_uri?.startsWith('http:')) problems.push(`clients[${i}].backchannel_logout_uri: must be https in production`);
    if (c.sector_identifier_uri?.startsWith('http:')) problems.push(`clients[${i}].sector_identifier_uri: must be https in production`);
    if (c.client_secret && DEMO_SECRET.test(c.client_secret))
      problems.push(`clients[${i}].client_secret: is a demo secret; set a random one in production`);
  });
  return problems;
}

/** The demo registry's secrets all start like this, so production can recognise and refuse them. */
export const DEMO_SECRET = /^demo-/;

/** Parses registry JSON text. Throws ConfigError with `file: path: message` on any problem. */
export function parseRegistry(text: string, file: string, opts: RegistryOptions): ClientConfig[] {
  const parsed = parseConfigFile(text, file, registrySchema, opts.env ?? process.env);
  if (opts.production) {
    const problems = productionIssues(parsed.clients);
    if (problems.length) throw new ConfigError(`${file}: ${problems.join('; ')}`);
  }
  return parsed.clients;
}

export function loadRegistry(file: string, opts: RegistryOptions): ClientConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the client registry (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseRegistry(text, file, opts);
}

/** JSON Schema of the registry file, for editors (published as config/clients.schema.json). */
export function registryJsonSchema(): unknown {
  return z.toJSONSchema(registrySchema, { io: 'input', unrepresentable: 'any' });
}
