// buildApp(ctx) -> Fastify instance. main.ts listens; tests use app.inject or supertest.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AppContext } from './context.js';
import { logDestination, loggerOptions, RequestLog, requestLoggerFactory } from './logger.js';
import { metricsSupport } from './metrics/index.js';
import { countUnmatchedRequests } from './metrics/request-hooks.js';
import { backchannelLogoutSupport } from './oauth/backchannel-logout/support.js';
import { sendAuthorizationResponse } from './oauth/authorize/response-modes.js';
import { AuthorizationRedirectError, OAuthError, PageError, safeDescription } from './oauth/errors.js';
import { isDatabaseUnavailable } from './db/unavailable.js';
import { translator } from './i18n/catalogues.js';
import { assetRoutes, loadPageAssets } from './routes/assets.js';
import { authorizeRoutes } from './routes/authorize.js';
import { consentRoutes } from './routes/consent.js';
import { deviceAuthorizationRoutes } from './routes/device-authorization.js';
import { deviceRoutes } from './routes/device.js';
import { corsSupport } from './routes/cors.js';
import { discoveryRoutes } from './routes/discovery.js';
import { healthRoutes } from './routes/health.js';
import { introspectionRoutes } from './routes/introspection.js';
import { jwksRoutes } from './routes/jwks.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { playgroundRoutes } from './playground/routes.js';
import { pageLocales } from './routes/page-locale.js';
import { parRoutes } from './routes/par.js';
import { revocationRoutes } from './routes/revocation.js';
import { securityHeaders } from './routes/security-headers.js';
import { tokenRoutes } from './routes/token.js';
import { sendUnavailable } from './routes/unavailable.js';
import { userinfoRoutes } from './routes/userinfo.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a page for a person at a browser: errors render as HTML, never JSON */
    page?: boolean;
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// dist/src/app.js sits one level deeper than src/app.ts
export const viewsDir = [path.join(root, 'views'), path.join(root, '..', 'views')].find((d) => {
  try {
    readFileSync(path.join(d, 'layout.eta'));
    return true;
  } catch {
    return false;
  }
})!;

export interface BuildOptions {
  logger?: boolean;
}

export async function buildApp(ctx: AppContext, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger === false ? false : { ...loggerOptions(ctx.env), stream: logDestination() },
    logController: new RequestLog(),
    childLoggerFactory: requestLoggerFactory,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    trustProxy: ctx.env.TRUST_PROXY,
    bodyLimit: 64 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  });

  app.decorate('issuer', ctx.env.ISSUER);
  app.decorate('discovery', {} as Record<string, unknown>);
  await app.register(fastifyFormbody);
  // cookies signed under SECRET_KEY_PREVIOUS still count during a rotation; new ones use SECRET_KEY
  await app.register(fastifyCookie, { secret: [...ctx.secretKeys] });
  await app.register(fastifyCsrf, {
    cookieKey: '__Host-csrf'.replace('__Host-', ctx.env.ISSUER.startsWith('https://') ? '__Host-' : ''),
    cookieOpts: { path: '/', sameSite: 'lax', httpOnly: true, secure: ctx.env.ISSUER.startsWith('https://'), signed: true },
  });
  const notFoundHeaders = securityHeaders(app, { https: ctx.env.ISSUER.startsWith('https://') });
  await metricsSupport(app, ctx);
  await app.register(fastifyRateLimit, { global: false });
  // what every view may use: the brand, the stylesheets, and the default language's messages
  // (page routes set the request's language in reply.locals: src/routes/page-locale.ts)
  const assets = loadPageAssets(ctx.env, viewsDir);
  const text = translator(ctx.env.DEFAULT_LOCALE);
  const defaultContext = { brand: assets.brand, stylesheets: assets.stylesheets, lang: text.locale, t: text.t, th: text.th };
  await app.register(fastifyView, { engine: { eta: new Eta({ views: viewsDir, cache: true }) }, root: viewsDir, defaultContext });
  pageLocales(app, ctx);
  await corsSupport(app, ctx);

  // the not-found handler in a plugin of its own, so that the security-headers hook it gets
  // runs for unknown paths only (routes get theirs when they are added)
  await app.register(async (notFound) => {
    notFound.addHook('onRequest', notFoundHeaders);
    if (app.metrics) countUnmatchedRequests(notFound, app.metrics);
    notFound.setNotFoundHandler((request, reply) => {
      reply.code(404).send({ error: 'not_found', error_description: `no route for ${request.method} ${request.url.split('?')[0]}` });
    });
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => handleError(error, request, reply));

  assetRoutes(app, assets);

  await healthRoutes(app, ctx);
  await discoveryRoutes(app, ctx);
  await jwksRoutes(app, ctx);
  await tokenRoutes(app, ctx);
  await revocationRoutes(app, ctx);
  await introspectionRoutes(app, ctx);
  await userinfoRoutes(app, ctx);
  await deviceAuthorizationRoutes(app, ctx);
  await deviceRoutes(app, ctx);
  await authorizeRoutes(app, ctx);
  await parRoutes(app, ctx);
  await loginRoutes(app, ctx);
  await consentRoutes(app, ctx);
  await logoutRoutes(app, ctx);
  await backchannelLogoutSupport(app, ctx);
  // development only: not even registered unless PLAYGROUND is on (off in production)
  if (ctx.env.PLAYGROUND) await playgroundRoutes(app, ctx, viewsDir);

  return app;
}

export function renderErrorPage(reply: FastifyReply, status: number, title: string, detail: string, error?: string) {
  return reply.code(status).header('cache-control', 'no-store').view('error.eta', { title, detail, error });
}

async function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const page = request.routeOptions.config?.page === true;
  if (error instanceof AuthorizationRedirectError) {
    return sendAuthorizationResponse(reply, {
      redirect_uri: error.redirect.redirect_uri,
      response_mode: error.redirect.response_mode,
      params: { error: error.error, error_description: safeDescription(error.description), state: error.redirect.state, iss: request.server.issuer },
    });
  }
  const { t } = reply.text;
  if (error instanceof PageError) return renderErrorPage(reply, error.status, t(error.title, error.params), t(error.detail, error.params));
  if (error instanceof OAuthError) {
    if (error.status >= 500) request.log.error({ err: error }, 'server error');
    // the description is the protocol's own (RFC 6749 error_description), in English
    if (page) return renderErrorPage(reply, error.status, t('error.request_title'), error.description, error.error);
    return reply.code(error.status).headers(error.headers).header('cache-control', 'no-store').send(error.toJSON());
  }
  // Fastify's own 4xx: unparseable body, unsupported content type, body too large, rate limit, CSRF
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status < 500) {
    const csrf = error.code?.startsWith('FST_CSRF');
    const description = csrf ? t('error.form_expired_detail') : status === 429 ? t('error.too_many') : error.message;
    if (page) return renderErrorPage(reply, status === 415 ? 400 : status, t(csrf ? 'error.form_expired_title' : 'error.bad_request_title'), description);
    return reply
      .code(status === 415 || status === 413 ? 400 : status)
      .header('cache-control', 'no-store')
      .send({ error: 'invalid_request', error_description: safeDescription(description) });
  }
  // the database away for a moment: 503 and Retry-After (src/routes/unavailable.ts)
  if (isDatabaseUnavailable(error)) return sendUnavailable(request, reply, error, page);
  request.log.error({ err: error }, 'unhandled error');
  if (page) return renderErrorPage(reply, 500, t('error.server_title'), t('error.server_detail'));
  return reply.code(500).header('cache-control', 'no-store').send({ error: 'server_error', error_description: 'the server could not complete the request' });
}

declare module 'fastify' {
  interface FastifyInstance {
    issuer: string;
  }
}
