// Counting requests: duration and status per route pattern (never the raw URL, so the label
// values stay as few as the routes), and refused client authentications.
import type { FastifyInstance, FastifyRequest, onResponseHookHandler } from 'fastify';
import { OAuthError } from '../oauth/errors.js';
import { UNMATCHED_ROUTE, type Metrics } from './metrics.js';

/** Adds the hooks; call it before any route is added. */
export function countRequests(app: FastifyInstance, metrics: Metrics): void {
  // Each route gets its own onResponse hook when it is added, with its pattern in the closure: a
  // global hook would have to read request.routeOptions, which Fastify builds on every access.
  app.addHook('onRoute', (route) => {
    const observe = metrics.requestObserver(route.url);
    const hook: onResponseHookHandler = function countRequest(request, reply, done) {
      observe(request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = route.onResponse ? [...[route.onResponse].flat(), hook] : [hook];
  });
  // errors only, so reading routeOptions here costs the hot path nothing
  app.addHook('onError', function countClientAuthFailure(request, _reply, error, done) {
    if (error instanceof OAuthError && error.error === 'invalid_client') metrics.clientAuthFailed(request.routeOptions.url ?? UNMATCHED_ROUTE, attemptedMethod(request));
    done();
  });
}

/**
 * The not-found handler is no route: call this in the plugin that sets it, so that its hook runs
 * for unknown paths only (a global onResponse hook would run on every request, /token included).
 */
export function countUnmatchedRequests(notFound: FastifyInstance, metrics: Metrics): void {
  const unmatched = metrics.requestObserver(UNMATCHED_ROUTE);
  notFound.addHook('onResponse', function countUnmatched(request, reply, done) {
    unmatched(request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/** The client authentication method a request attempted (RFC 6749 §2.3.1, RFC 7523 §2.2), from what it sent. */
function attemptedMethod(request: FastifyRequest): 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none' {
  if (/^Basic /i.test(request.headers.authorization ?? '')) return 'client_secret_basic';
  const body = (request.body ?? {}) as Record<string, unknown>;
  if (body.client_assertion !== undefined || body.client_assertion_type !== undefined) return 'private_key_jwt';
  if (body.client_secret !== undefined) return 'client_secret_post';
  return 'none';
}
