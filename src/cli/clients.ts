// `clients check [FILE]`, `clients sync` and `clients schema`.
import { loadFiles } from '../bootstrap.js';
import { loadRegistry, registryJsonSchema } from '../config/clients.js';
import { envSchema } from '../config/env.js';
import { checkSectorIdentifiers } from '../config/sector-identifier.js';
import { REGISTRY_POLL_MS } from '../operations/registry-reload.js';
import { hashUsers, syncRegistry } from '../operations/registry-sync.js';
import { CliError, cliEnv, parse, withDatabase, type CliIO } from './io.js';

/** Validates a registry with the loader the server uses; production checks with --production or NODE_ENV=production. */
export async function clientsCheck(args: string[], io: CliIO): Promise<void> {
  const { values, positionals } = parse(args, { production: { type: 'boolean' } }, true);
  if (positionals.length > 1) throw new CliError('clients check takes one FILE');
  const file = positionals[0] ?? (io.env.CLIENTS_FILE || 'config/clients.json');
  const production = values.production === true || io.env.NODE_ENV === 'production';
  // `${ISSUER}` is the issuer the server would use, its default included
  const issuer = envSchema.safeParse(io.env).data?.ISSUER;
  const clients = loadRegistry(file, { production, env: issuer ? { ...io.env, ISSUER: issuer } : io.env });
  await checkSectorIdentifiers(clients, file);
  io.out(`OK: ${file}: ${clients.length} client${clients.length === 1 ? '' : 's'}${production ? ' (production checks)' : ''}`);
}

/**
 * What SIGHUP does, from the command line: CLIENTS_FILE and USERS_FILE, checked with the
 * server's loader and then written in one transaction that raises the registry version, which
 * servers on the same PostgreSQL watch. A bad file is refused before the database is opened.
 */
export async function clientsSync(args: string[], io: CliIO): Promise<void> {
  parse(args, {});
  const env = cliEnv(io);
  const files = loadFiles(env, io.env);
  const users = await hashUsers(files.users);
  await withDatabase(io, async (db) => {
    const r = await syncRegistry(db, { clients: files.clients, clientsFile: env.CLIENTS_FILE, users, usersFile: env.USERS_FILE });
    const usersPart = env.USERS_FILE ? `; ${env.USERS_FILE}: ${r.users} user${r.users === 1 ? '' : 's'}` : '';
    io.out(`OK: ${env.CLIENTS_FILE}: ${r.clients} client${r.clients === 1 ? '' : 's'}, ${r.disabled} disabled${usersPart}; registry version ${r.version}`);
    io.out(`Servers on this PostgreSQL database pick it up within ${REGISTRY_POLL_MS / 1000} s.`);
  });
}

// Shown by editors on hover; the wording follows INTERFACE.md and RFC 7591.
const DESCRIPTIONS: Record<string, string> = {
  client_id: 'The client identifier (RFC 6749 §2.2). Visible ASCII, no spaces.',
  client_secret:
    'At least 32 characters, stored hashed. Prefer "${ENV_VAR}": any ${NAME} in a string is replaced by that environment variable at start.',
  client_name: 'Shown to the user on the consent page. Defaults to client_id.',
  redirect_uris: 'Absolute URLs without a fragment; compared exactly. In production only https, or http on a loopback address.',
  post_logout_redirect_uris: 'Where end-session may send the browser back to; same rules as redirect_uris.',
  grant_types: 'Grants this client may use; any other is refused.',
  response_types: '"code" for authorization_code; "id_token" and "id_token token" need "implicit" in grant_types.',
  token_endpoint_auth_method:
    'How the client authenticates at the token endpoint: client_secret_basic (default with a secret), client_secret_post, private_key_jwt (with jwks or jwks_uri), none (public client).',
  jwks: 'The client\'s public keys for private_key_jwt.',
  jwks_uri: 'URL of the client\'s public keys for private_key_jwt.',
  scope: 'Space-separated scopes the client may request.',
  require_pkce: 'Require PKCE (S256) on the authorization code flow. Default true; a public client can never turn it off.',
  skip_consent: 'Do not ask the user for consent (first-party apps).',
  id_token_signed_response_alg: 'Signing algorithm of ID tokens for this client: RS256 (default), PS256, ES256 or EdDSA.',
  access_token_signed_response_alg: 'Signing algorithm of access tokens for this client: RS256, PS256, ES256 or EdDSA. Default: ACCESS_TOKEN_SIGNING_ALG.',
  access_token_ttl: 'Access token lifetime in seconds (overrides ACCESS_TOKEN_TTL).',
  id_token_ttl: 'ID token lifetime in seconds (overrides ID_TOKEN_TTL).',
  refresh_token_ttl: 'Refresh token lifetime in seconds (overrides REFRESH_TOKEN_TTL).',
  audience: 'Default audience (aud) of access tokens; also the resources (RFC 8707) this client may ask for.',
  token_exchange:
    'Token exchange (RFC 8693) policy: allowed_audiences lists the audience or resource values this client may exchange tokens for. Required with the token-exchange grant.',
  backchannel_logout_uri:
    'OpenID Connect Back-Channel Logout: where a logout_token is POSTed when a login session this client signed in to ends. https in production; no fragment.',
  backchannel_logout_session_required: 'The logout token must carry sid (it always does here). Needs backchannel_logout_uri.',
  subject_type: 'public (default): every client sees the same sub; pairwise: a sub of its own per sector (OIDC Core section 8).',
  sector_identifier_uri:
    'For pairwise: a JSON array of URLs, fetched at start, listing every redirect URI; its host is the sector. Required when the redirect URIs have several hosts. https in production.',
  $comment: 'Free text, ignored.',
};

// A string that names an environment variable, checked only after interpolation at start.
const ENV_REFERENCE = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}' };

type JsonObject = Record<string, unknown>;

/**
 * The registry's JSON Schema for editors (config/clients.schema.json): generated from the zod
 * schema, plus descriptions, and with `${VAR}` references accepted where a value is checked
 * only after interpolation (a secret placeholder is shorter than 32 characters).
 */
export function clientsSchemaDocument(): JsonObject {
  const schema = structuredClone(registryJsonSchema()) as JsonObject;
  const client = ((schema.properties as JsonObject).clients as JsonObject).items as JsonObject;
  const props = client.properties as Record<string, JsonObject>;
  for (const [name, description] of Object.entries(DESCRIPTIONS)) if (props[name]) props[name] = { description, ...props[name] };
  const secret = props.client_secret!;
  props.client_secret = { description: secret.description, anyOf: [{ type: 'string', minLength: secret.minLength }, ENV_REFERENCE] };
  const jwksUri = props.jwks_uri!;
  props.jwks_uri = { description: jwksUri.description, anyOf: [{ type: 'string', format: jwksUri.format }, ENV_REFERENCE] };
  return {
    $schema: schema.$schema,
    title: 'OAuth server client registry (CLIENTS_FILE)',
    description: 'Clients created or updated at start; clients no longer listed are disabled. Check a file with: npm run cli -- clients check FILE',
    ...schema,
  };
}

export function clientsSchema(args: string[], io: CliIO): void {
  parse(args, {});
  io.out(JSON.stringify(clientsSchemaDocument(), null, 2));
}
