// Pushed authorization requests (RFC 9126 §2): the client posts the authorization request it
// would send to /authorize, authenticated as at /token. It is validated as /authorize would
// validate it and kept under a one-time, short-lived request_uri that only this client can use.
import type { AppContext } from '../../context.js';
import { randomToken } from '../../crypto/random.js';
import type { Client } from '../../repositories/clients.js';
import { OAuthError, PageError } from '../errors.js';
import { parseAuthorizationRequest } from './request.js';
import { REQUEST_URI_PREFIX } from './request-source.js';

/** Client authentication parameters (RFC 6749 §2.3.1, RFC 7523 §2.2): not part of the request. */
const CLIENT_AUTH_PARAMS = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

export interface PushedAuthorizationResponse {
  request_uri: string;
  expires_in: number;
}

export async function pushAuthorizationRequest(ctx: AppContext, client: Client, body: Record<string, string>, dpopJkt?: string): Promise<PushedAuthorizationResponse> {
  const params = Object.fromEntries(Object.entries(body).filter(([k]) => !CLIENT_AUTH_PARAMS.has(k)));
  params.client_id = client.client_id;
  let request;
  try {
    request = await parseAuthorizationRequest(ctx, params, client);
  } catch (e) {
    // RFC 9126 §2.3: errors are JSON answers, as at the token endpoint; nothing is redirected
    if (e instanceof PageError) throw new OAuthError('invalid_request', e.description);
    if (e instanceof OAuthError) throw new OAuthError(e.error, e.description);
    throw e;
  }
  // RFC 9449 §10.1: the key of the DPoP proof sent to /par is the code's dpop_jkt; a different
  // dpop_jkt in the request is refused
  if (dpopJkt) {
    if (request.dpop_jkt !== undefined && request.dpop_jkt !== dpopJkt) throw new OAuthError('invalid_dpop_proof', 'dpop_jkt does not match the key of the DPoP proof');
    request.params.dpop_jkt = dpopJkt;
  }
  // RFC 9126 §2.2: the request_uri is a one-time reference that cannot be guessed
  const request_uri = `${REQUEST_URI_PREFIX}${randomToken()}`;
  const expires_in = ctx.env.PUSHED_AUTHORIZATION_REQUEST_TTL;
  await ctx.repos.pushedAuthorizationRequests.create({
    request_uri,
    client_id: client.client_id,
    params: request.params,
    request_object: request.origin.signed,
    expires_at: new Date(Date.now() + expires_in * 1000),
  });
  return { request_uri, expires_in };
}
