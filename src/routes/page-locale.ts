// The language of each page (src/i18n/negotiate.ts): ui_locales of the authorization or logout
// request (OpenID Connect Core §3.1.2.1, RP-Initiated Logout §2), which also travels in the login
// page's return_to and in the consent form's hidden fields; else Accept-Language; else
// DEFAULT_LOCALE. Page routes (config.page) get `reply.text`, and the views get `lang`, `t` and
// `th` through reply.locals, the error pages included.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preValidationHookHandler } from 'fastify';
import type { AppContext } from '../context.js';
import { SUPPORTED_LOCALES, translator, type Translator } from '../i18n/catalogues.js';
import { chooseLocale } from '../i18n/negotiate.js';

declare module 'fastify' {
  interface FastifyReply {
    /** the page's messages in the chosen language (DEFAULT_LOCALE outside page routes) */
    readonly text: Translator;
    /** @fastify/view merges these into every view's data (its types do not declare them) */
    locals: Record<string, unknown>;
  }
}

const chosen = new WeakMap<FastifyReply, Translator>();

function field(source: unknown, name: string): string | undefined {
  const v = source && typeof source === 'object' ? (source as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** ui_locales sent with the request, or inside the request the login page returns to. */
function uiLocalesIn(source: unknown): string | undefined {
  const direct = field(source, 'ui_locales');
  if (direct !== undefined) return direct;
  const returnTo = field(source, 'return_to');
  const query = returnTo?.indexOf('?') ?? -1;
  return query >= 0 ? (new URLSearchParams(returnTo!.slice(query + 1)).get('ui_locales') ?? undefined) : undefined;
}

/** Sets the page's language; renderers call it again when they learn ui_locales later (PAR, request objects). */
export function setPageLocale(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ui_locales: string | undefined): Translator {
  const text = translator(chooseLocale({ ui_locales, acceptLanguage: request.headers['accept-language'], fallback: ctx.env.DEFAULT_LOCALE }));
  chosen.set(reply, text);
  reply.locals = { ...reply.locals, lang: text.locale, t: text.t, th: text.th };
  return text;
}

export function pageLocales(app: FastifyInstance, ctx: AppContext): void {
  // OpenID Connect Discovery §3: the languages the pages speak
  app.discovery.ui_locales_supported = [...SUPPORTED_LOCALES];
  const fallback = translator(ctx.env.DEFAULT_LOCALE);
  app.decorateReply('text', {
    getter(this: FastifyReply) {
      return chosen.get(this) ?? fallback;
    },
  });
  // from the query before anything can fail, so that every error page has a language
  const fromQuery: onRequestHookHandler = function pageLocale(request, reply, done) {
    setPageLocale(ctx, request, reply, uiLocalesIn(request.query));
    done();
  };
  // and from a form body once it is parsed
  const fromBody: preValidationHookHandler = function pageLocaleFromBody(request, reply, done) {
    const ui_locales = uiLocalesIn(request.body);
    if (ui_locales !== undefined) setPageLocale(ctx, request, reply, ui_locales);
    done();
  };
  app.addHook('onRoute', (route) => {
    if (!route.config?.page) return;
    route.onRequest = [...[route.onRequest ?? []].flat(), fromQuery];
    route.preValidation = [fromBody, ...[route.preValidation ?? []].flat()];
  });
}
