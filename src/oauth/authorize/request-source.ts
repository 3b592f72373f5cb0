// Where the parameters of an authorization request come from (RFC 9101 §5, RFC 9126 §4): the
// query or form as sent; a signed request object (`request`); a pushed request named by its
// one-time `request_uri`, spent here; or our own login and consent pages carrying one of those
// back, vouched for by the `_resolved` marker (interaction.ts).
import type { AppContext } from '../../context.js';
import type { Client } from '../../repositories/clients.js';
import { OAuthError, PageError } from '../errors.js';
import { RESOLVED_MARKER, requestParams, resolvedMarker, resolvedOrigin, type RequestOrigin } from './interaction.js';
import { verifyRequestObject } from './request-object.js';

/** RFC 9126 §2.2: the form of the request_uri values this server hands out. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

export interface RequestSource {
  /** the parameters the request is made of */
  params: Record<string, string>;
  /** names of parameters sent more than once (outside a request object or pushed request) */
  repeated: string[];
  origin: RequestOrigin;
}

/**
 * Resolves the request's parameters. `pushedBy` is the authenticated client at the pushed
 * authorization request endpoint; without it, this is /authorize (or the consent form).
 * Throws OAuthError (invalid_request_object, invalid_request_uri, ...) or, for a marker that
 * does not hold, PageError.
 */
export async function resolveRequestSource(ctx: AppContext, sent: { params: Record<string, string>; repeated: string[] }, pushedBy?: Client): Promise<RequestSource> {
  const { params, repeated } = sent;
  if (pushedBy) {
    // RFC 9126 §2.1: request_uri must not be pushed
    if (params.request_uri !== undefined) throw new OAuthError('invalid_request', 'request_uri must not be sent to the pushed authorization request endpoint (RFC 9126 section 2.1)');
    if (params.request !== undefined) return { params: await verifyRequestObject(ctx, pushedBy, params.request), repeated: [], origin: { pushed: true, signed: true } };
    // our pages' own fields are never part of a pushed request
    const own = requestParams(params);
    delete own[RESOLVED_MARKER];
    return { params: own, repeated, origin: { pushed: true, signed: false } };
  }

  const carried = resolvedOrigin(ctx.secretKeys, params);
  if (carried === 'invalid')
    throw new PageError('error.link_expired_title', 'error.link_expired');
  if (carried) return { params, repeated, origin: carried };
  if (params.request === undefined && params.request_uri === undefined) return { params, repeated, origin: { pushed: false, signed: false } };

  // RFC 9101 §5: request and request_uri are alternatives
  if (params.request !== undefined && params.request_uri !== undefined) throw new OAuthError('invalid_request', 'send either request or request_uri, not both');
  // RFC 9101 §5, RFC 9126 §4: client_id is required beside them
  const client = params.client_id === undefined ? undefined : await ctx.clients.get(params.client_id);
  if (!client) throw new OAuthError('invalid_request', 'client_id must name a registered client when request or request_uri is sent');

  let resolved: { params: Record<string, string>; origin: RequestOrigin };
  if (params.request_uri !== undefined) {
    // RFC 9101 §5.2: request_uri values we did not issue would have to be fetched, which we do not do
    if (!params.request_uri.startsWith(REQUEST_URI_PREFIX))
      throw new OAuthError('request_uri_not_supported', 'only request_uri values from the pushed authorization request endpoint are accepted');
    const pushed = await ctx.repos.pushedAuthorizationRequests.consume(params.request_uri, client.client_id);
    if (!pushed) throw new OAuthError('invalid_request_uri', 'the request_uri is unknown, expired, already used, or was pushed by another client');
    resolved = { params: pushed.params, origin: { pushed: true, signed: pushed.request_object } };
  } else {
    resolved = { params: await verifyRequestObject(ctx, client, params.request!), origin: { pushed: false, signed: true } };
  }
  resolved.params[RESOLVED_MARKER] = resolvedMarker(ctx.secretKey, resolved.params, resolved.origin);
  return { ...resolved, repeated: [] };
}
