// Which language a page speaks: the first of the authorization request's ui_locales we have
// (OpenID Connect Core §3.1.2.1, "space-separated list of BCP47 language tag values, ordered by
// preference"), else the best of the browser's Accept-Language (RFC 9110 §12.5.4), else the
// configured default.
import Negotiator from 'negotiator';
import { SUPPORTED_LOCALES, type Locale } from './catalogues.js';

/**
 * RFC 4647 §3.4 "Lookup": a tag matches a locale when it is the locale, or the locale with
 * subtags after it (fr-CA matches fr); tags are compared without regard to case.
 */
function lookup(tag: string): Locale | undefined {
  const lower = tag.toLowerCase();
  return SUPPORTED_LOCALES.find((l) => lower === l || lower.startsWith(`${l}-`));
}

export function chooseLocale(opts: { ui_locales?: string | undefined; acceptLanguage?: string | undefined; fallback: Locale }): Locale {
  for (const tag of (opts.ui_locales ?? '').split(' ')) {
    const found = tag ? lookup(tag) : undefined;
    if (found) return found;
  }
  if (opts.acceptLanguage) {
    // the default first, so that `*` and equal weights choose it
    const available = [opts.fallback, ...SUPPORTED_LOCALES.filter((l) => l !== opts.fallback)];
    const best = new Negotiator({ headers: { 'accept-language': opts.acceptLanguage } }).language(available);
    if (best) return best as Locale;
  }
  return opts.fallback;
}
