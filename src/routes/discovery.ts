// OpenID Connect Discovery 1.0 §3 and RFC 8414 §2. Built from what is registered in this app:
// grant types from the grant registry, everything else from `app.discovery`, which each route
// module fills in when it registers. Advertise only what works.
import type { FastifyInstance } from 'fastify';
import { SUBJECT_TYPES } from '../config/clients.js';
import type { AppContext } from '../context.js';
import { SUPPORTED_ALGS } from '../crypto/keystore.js';
import { CLIENT_ASSERTION_SIGNING_ALGS } from '../oauth/client-auth.js';
import { grantHandlers } from '../oauth/grants/index.js';
import { JWKS_PATH } from './jwks.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Metadata that route modules add about themselves when they register, e.g.
     * `app.discovery.userinfo_endpoint = '/userinfo'`. Paths starting with / are made absolute.
     */
    discovery: Record<string, unknown>;
  }
}

export function buildMetadata(app: FastifyInstance, ctx: AppContext): Record<string, unknown> {
  const iss = ctx.env.ISSUER;
  // implicit has no handler at /token: it is served by the authorization endpoint (OIDC Core §3.2)
  const grantTypes = [...grantHandlers.keys(), ...(app.discovery.authorization_endpoint && !grantHandlers.has('implicit') ? ['implicit'] : [])];
  const authMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];
  const metadata: Record<string, unknown> = {
    issuer: iss,
    token_endpoint: `${iss}/token`,
    jwks_uri: `${iss}${JWKS_PATH}`,
    grant_types_supported: grantTypes,
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_SIGNING_ALGS,
    scopes_supported: ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'],
    response_types_supported: [],
    subject_types_supported: [...SUBJECT_TYPES],
    id_token_signing_alg_values_supported: [...SUPPORTED_ALGS],
  };
  Object.assign(metadata, app.discovery);
  for (const [k, v] of Object.entries(metadata)) {
    // absolute endpoint paths are relative to the issuer
    if (typeof v === 'string' && v.startsWith('/')) metadata[k] = `${iss}${v}`;
  }
  return metadata;
}

export async function discoveryRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  let cached: Record<string, unknown> | undefined;
  const serve = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    cached ??= buildMetadata(app, ctx);
    reply.header('cache-control', 'public, max-age=300');
    return cached;
  };
  app.get('/.well-known/openid-configuration', serve);
  app.get('/.well-known/oauth-authorization-server', serve);
}
