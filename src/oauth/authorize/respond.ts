// Sending the authorization response once the person is signed in and consented.
import type { FastifyReply } from 'fastify';
import { sendAuthorizationResponse } from './response-modes.js';
import { responseTypeHandlers } from './response-types/index.js';
import type { Authorization } from './response-types/types.js';

export async function respond(reply: FastifyReply, a: Authorization): Promise<FastifyReply> {
  const { request, ctx } = a;
  const handler = responseTypeHandlers.get(request.response_type);
  if (!handler) throw new Error(`no handler for response_type ${request.response_type}`);
  const params = await handler.respond(a);
  // the session signed in to this client: its logout will tell the client (Back-Channel Logout 1.0 §2.5)
  if (request.scopes.includes('openid')) await ctx.repos.backchannelLogout.recordSessionClient(a.session.id_hash, request.client.client_id);
  return sendAuthorizationResponse(reply, {
    redirect_uri: request.redirect_uri,
    response_mode: request.response_mode,
    // RFC 6749 §4.1.2: state exactly as received; RFC 9207 §2: iss on every response
    params: { ...params, state: request.state, iss: ctx.env.ISSUER },
  });
}
