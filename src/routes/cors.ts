// CORS for browser-based apps (single-page apps are public clients that call /token and
// /userinfo from JavaScript; OAuth 2.0 for Browser-Based Apps §6.1). Metadata and keys are
// public to every origin. Back-channel endpoints answer only origins that are the origin of a
// registered redirect URI. Pages (/authorize, /login, /device, ...) never get CORS headers:
// they are navigated to, not fetched.
//
// Written here rather than with @fastify/cors: that plugin, in the per-request (delegator) form
// this policy needs, rebuilt its options and set Vary on every request, and cost the token
// endpoint about a tenth of its throughput (docs/BENCHMARKS.md), although backend services, the
// hot path, never send an Origin header. This hook returns at once when there is none.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

const PUBLIC = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks']);
const FOR_CLIENTS = new Set(['/token', '/userinfo', '/revoke', '/device_authorization', '/par']);

const PUBLIC_PREFLIGHT = { 'access-control-allow-methods': 'GET', 'access-control-max-age': '600' };
const CLIENT_PREFLIGHT = {
  'access-control-allow-methods': 'GET, POST',
  // RFC 9449 §4.1: browser apps send their proof in the DPoP header
  'access-control-allow-headers': 'Authorization, Content-Type, DPoP',
  'access-control-max-age': '600',
};
/** RFC 9449 §8, §9: browser apps read the server's nonce and the challenge that asks for it */
const CLIENT_EXPOSED = 'DPoP-Nonce, WWW-Authenticate';

export async function corsSupport(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (!origin) return done();
    const q = request.url.indexOf('?');
    const path = q < 0 ? request.url : request.url.slice(0, q);
    // a preflight (Fetch §3.2.2): OPTIONS with Access-Control-Request-Method
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (PUBLIC.has(path)) {
      reply.header('access-control-allow-origin', '*');
      if (preflight) {
        reply.code(204).headers(PUBLIC_PREFLIGHT).send(); // answered here: done() is not called
        return;
      }
      return done();
    }
    if (!FOR_CLIENTS.has(path)) return done();
    // the answer depends on the Origin header (Fetch §3.2.5: caches must know)
    reply.header('vary', 'Origin');
    ctx.clients.isClientOrigin(origin).then((allowed) => {
      if (!allowed) return done();
      reply.header('access-control-allow-origin', origin);
      if (preflight) {
        reply.code(204).headers(CLIENT_PREFLIGHT).send();
        return;
      }
      reply.header('access-control-expose-headers', CLIENT_EXPOSED);
      done();
    }, done);
  });
}
