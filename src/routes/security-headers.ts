// Security headers (helmet's set, CSP with frame-ancestors 'none') on every answer. The values
// are computed once, at start, by the helmet library itself; one cheap onRequest hook then sets
// them. @fastify/helmet instead rebuilds helmet's middleware for every request (two hooks, one
// async, about 0.02 ms of CPU each time), which the token endpoint, the hot path, cannot afford
// (docs/BENCHMARKS.md). Our directives are static (no nonces), so nothing is lost.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import helmet from 'helmet';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a JSON API answer: only the headers that matter for JSON (nosniff, HSTS), not the page set */
    api?: boolean;
  }
}

/** The headers helmet's middleware sets, collected from one dry run against a stand-in response. */
export function helmetHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as never, res as unknown as ServerResponse, () => {});
  return headers;
}

/** Registers the headers for every route added after it; returns the hook for the not-found handler. */
export function securityHeaders(app: FastifyInstance, opts: { https: boolean }): onRequestHookHandler {
  const page = helmetHeaders({
    // form-action is left out on purpose: Chrome applies it to the redirect that follows a form
    // post, and consent redirects to the client's origin. frame-ancestors forbids framing.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        // client logos (logo_uri, RFC 7591 §2) and BRAND_LOGO_URL are images from elsewhere:
        // https only, except on a development server (http issuer), where http is allowed too
        imgSrc: ["'self'", 'data:', 'https:', ...(opts.https ? [] : ['http:'])],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    strictTransportSecurity: opts.https,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
  const api: Record<string, string> = { 'x-content-type-options': 'nosniff' };
  if (page['strict-transport-security']) api['strict-transport-security'] = page['strict-transport-security'];
  // Which set a route gets is decided once, when the route is added: each route gets its own
  // onRequest hook. (A global hook would have to read request.routeOptions, which Fastify builds
  // afresh on every access.) The not-found handler is no route, so it gets the page set here.
  const hookFor = (headers: Record<string, string>): onRequestHookHandler =>
    function setSecurityHeaders(_request, reply, done) {
      reply.headers(headers);
      done();
    };
  const apiHook = hookFor(api);
  const pageHook = hookFor(page);
  app.addHook('onRoute', (route) => {
    const hook = route.config?.api ? apiHook : pageHook;
    route.onRequest = route.onRequest ? [hook, ...[route.onRequest].flat()] : [hook];
  });
  return pageHook;
}
