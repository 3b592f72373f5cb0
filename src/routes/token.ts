// Token endpoint (RFC 6749 §3.2).
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { authenticateClient } from '../oauth/client-auth.js';
import { DPOP_SIGNING_ALGS, tokenRequestProof } from '../oauth/dpop/proof.js';
import { OAuthError } from '../oauth/errors.js';
import { grantHandlers } from '../oauth/grants/index.js';
import { singleParams } from '../oauth/params.js';
import { noStore, requireFormBody } from './http.js';

/** RFC 8707 §2: `resource` may repeat; `audience` is accepted as its synonym. */
const RESOURCE_PARAMS: ReadonlySet<string> = new Set(['resource', 'audience']);

/** The requested resources (RESOURCE_PARAMS), each an absolute URI without a fragment or a logical name, once each. */
function resourcesOf(body: unknown): string[] {
  const b = (body ?? {}) as Record<string, unknown>;
  // most token requests name no resource: no arrays built for them (the hot path)
  if (b.resource === undefined && b.audience === undefined) return [];
  const all = [b.resource, b.audience].flat().filter((v): v is string => typeof v === 'string' && v !== '');
  for (const r of all) {
    let u: URL | undefined;
    try {
      u = new URL(r);
    } catch {
      u = undefined;
    }
    // §2: an absolute URI without a fragment (logical audience names are accepted too)
    if (u && u.hash) throw new OAuthError('invalid_target', 'resource must not contain a fragment');
  }
  return [...new Set(all)];
}

export async function tokenRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const endpoint = `${ctx.env.ISSUER}/token`;
  // RFC 9449 §5.1
  app.discovery.dpop_signing_alg_values_supported = DPOP_SIGNING_ALGS;
  // a JSON API answer: nosniff (and HSTS on https) from the security-headers hook, not the page set
  app.post('/token', { config: { api: true } }, async (request, reply) => {
    requireFormBody(request);
    noStore(reply);
    const resources = resourcesOf(request.body);
    const params = singleParams(request.body, RESOURCE_PARAMS);
    const { client } = await authenticateClient(ctx, request.headers.authorization, params, endpoint);
    // RFC 9449 §5: a DPoP proof binds the tokens to its key; §5.2: some clients must send one
    // without a DPoP header nothing is awaited: client_credentials is the hot path
    const dpop = request.headers.dpop === undefined ? undefined : await tokenRequestProof(ctx, request, reply, endpoint);
    if (!dpop && client.dpop_bound_access_tokens) throw new OAuthError('invalid_request', 'this client must send a DPoP proof with every token request (dpop_bound_access_tokens)');
    const grantType = params.grant_type;
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is missing');
    const handler = grantHandlers.get(grantType);
    if (!handler) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
    // RFC 6749 §5.2: the client must be registered for the grant
    if (!(client.grant_types as string[]).includes(grantType)) throw new OAuthError('unauthorized_client', `client is not registered for grant_type ${grantType}`);
    const response = await handler.handle({ ctx, client, params, resources, request, dpop });
    request.server.metrics?.tokenIssued(grantType);
    return response;
  });
}
