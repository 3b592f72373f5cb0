import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../oauth/errors.js';

/** RFC 6749 §5.1: token responses (and pages with forms or tokens) must not be cached. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i;

/**
 * Back-channel requests carry their parameters form-encoded: RFC 6749 §3.2 and §4.1.3 (token),
 * RFC 7009 §2.1 (revocation), RFC 7662 §2.1 (introspection), RFC 8628 §3.1 (device
 * authorization). A JSON body, which Fastify would otherwise parse, is refused.
 */
export function requireFormBody(request: FastifyRequest): void {
  // one regular expression test and no allocation: this runs on every token request
  if (request.body !== undefined && !FORM.test(request.headers['content-type'] ?? ''))
    throw new OAuthError('invalid_request', 'the request body must be application/x-www-form-urlencoded');
}
