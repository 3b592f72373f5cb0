// The database away for a moment (src/db/unavailable.ts): a request that needs it answers
// 503 Service Unavailable with Retry-After (RFC 9110 §15.6.4, §10.2.3) within the pool's
// timeouts, never a hang, a 500 or a stack trace.
//
// The error code is `temporarily_unavailable`, on every endpoint. RFC 6749 defines it for the
// authorization endpoint (§4.1.2.1, §4.2.2.1: "temporary overloading or maintenance"), where a
// redirect cannot carry a 503; the back-channel endpoints (token §5.2, revocation RFC 7009 §2.2.1,
// introspection RFC 7662 §2.3, device authorization RFC 8628 §3.2, userinfo RFC 6750 §3.1)
// define no code for it, and `server_error`, the other candidate, says "an unexpected condition",
// which a database outage with a Retry-After is not. The status, 503, is what those endpoints
// do define (RFC 7009 §2.2.1: 503 and Retry-After, the client retries later), and it tells every
// client the same thing; the registered code that says it in words goes with it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { AuthorizationRedirectError } from '../oauth/errors.js';
import type { ResponseMode } from '../oauth/authorize/response-modes.js';

/** Seconds a client is asked to wait: about what the pool needs to notice the database is back. */
export const RETRY_AFTER_SECONDS = 5;
const DESCRIPTION = 'the service is temporarily unavailable; try again shortly';

function logUnavailable(request: FastifyRequest, error: unknown): void {
  // the message only: no stack, and pg's messages carry no secret
  request.log.warn({ error: (error as Error).message || (error as { code?: string }).code }, 'database not reachable');
}

/** Answers a request whose database work failed because the database is not reachable. */
export function sendUnavailable(request: FastifyRequest, reply: FastifyReply, error: unknown, page: boolean) {
  logUnavailable(request, error);
  reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).header('cache-control', 'no-store');
  if (page)
    return reply.view('error.eta', {
      title: 'Temporarily unavailable',
      detail: 'The service cannot complete this request right now. Try again in a few seconds.',
      error: 'temporarily_unavailable',
    });
  return reply.send({ error: 'temporarily_unavailable', error_description: DESCRIPTION });
}

/**
 * At the authorization endpoint, once the client and its redirect URI are known, the client is
 * told instead of the person (RFC 6749 §4.1.2.1, §4.2.2.1): `temporarily_unavailable` on its
 * redirect URI, so that the app can say so and try again. Any other error passes through.
 */
export function toClientIfUnavailable(request: FastifyRequest, redirect: { redirect_uri: string; response_mode: ResponseMode; state?: string | undefined }) {
  return (error: unknown): never => {
    if (!isDatabaseUnavailable(error)) throw error;
    logUnavailable(request, error);
    throw new AuthorizationRedirectError('temporarily_unavailable', DESCRIPTION, redirect);
  };
}
