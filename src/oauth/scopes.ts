// Scope handling (RFC 6749 §3.3): space-delimited, order does not matter.
import type { Translator } from '../i18n/catalogues.js';
import { en, type MessageKey } from '../i18n/en.js';

export function parseScope(scope: string | undefined | null): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter(Boolean))];
}

export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}

/** The requested scopes the client registered; unregistered values are dropped (RFC 6749 §3.3 lets the server narrow). */
export function allowedScopes(requested: string[], registered: string): string[] {
  const reg = new Set(parseScope(registered));
  return requested.filter((s) => reg.has(s));
}

export function isSubset(scopes: Iterable<string>, of: Iterable<string>): boolean {
  const set = new Set(of);
  for (const s of scopes) if (!set.has(s)) return false;
  return true;
}

/** A scope in plain words for the consent and device pages, in the page's language (src/i18n). */
export function describeScope(scope: string, t: Translator['t']): string {
  const key = `scope.${scope}`;
  return key in en ? t(key as MessageKey) : t('consent.scope_other', { scope });
}
