// Pushed authorization request endpoint (RFC 9126 §2): POST /par, client authentication as at
// /token, answers 201 with request_uri and expires_in.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { authenticateClient } from '../oauth/client-auth.js';
import { pushAuthorizationRequest } from '../oauth/authorize/push.js';
import { tokenRequestProof } from '../oauth/dpop/proof.js';
import { singleParams } from '../oauth/params.js';
import { noStore, requireFormBody } from './http.js';

export const PAR_PATH = '/par';

export async function parRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const endpoint = `${ctx.env.ISSUER}${PAR_PATH}`;
  // RFC 9126 §5: advertised in the authorization server metadata, with the server-wide requirement
  Object.assign(app.discovery, {
    pushed_authorization_request_endpoint: PAR_PATH,
    require_pushed_authorization_requests: ctx.env.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS,
  });

  app.post(PAR_PATH, { config: { api: true } }, async (request, reply) => {
    requireFormBody(request);
    noStore(reply);
    const params = singleParams(request.body);
    // §2: the client authenticates as at the token endpoint; public clients send client_id
    const { client } = await authenticateClient(ctx, request.headers.authorization, params, endpoint);
    // RFC 9449 §10.1: a DPoP proof here binds the code to its key, as dpop_jkt would
    const dpop = await tokenRequestProof(ctx, request, reply, endpoint);
    return reply.code(201).send(await pushAuthorizationRequest(ctx, client, params, dpop?.jkt));
  });
}
