// The message catalogues, one per language, and the translator the pages use.
import { en, type MessageKey, type Messages } from './en.js';
import { fr } from './fr.js';

export const CATALOGUES = { en, fr } as const satisfies Record<string, Messages>;
export type Locale = keyof typeof CATALOGUES;
/** Advertised as ui_locales_supported (OpenID Connect Discovery §3). */
export const SUPPORTED_LOCALES = Object.keys(CATALOGUES) as Locale[];

/** A key with _one / _other forms, named without the suffix; `count` picks the form. */
export type PluralKey = MessageKey extends infer K ? (K extends `${infer Base}_other` ? Base : never) : never;
export type TextKey = MessageKey | PluralKey;
export type Params = Record<string, string | number>;

export interface Translator {
  locale: Locale;
  /** plain text, for eta to escape */
  t(key: TextKey, params?: Params): string;
  /** HTML: the message escaped, each parameter escaped and set in <strong> */
  th(key: TextKey, params?: Params): string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export function translator(locale: Locale): Translator {
  const messages: Messages = CATALOGUES[locale];
  const plural = new Intl.PluralRules(locale);
  const message = (key: TextKey, params: Params): string => {
    if (key in messages) return messages[key as MessageKey];
    // CLDR plural categories (one, other, and for some languages many...); _other is always there
    const form = `${key}_${plural.select(Number(params.count))}`;
    return form in messages ? messages[form as MessageKey] : messages[`${key}_other` as MessageKey];
  };
  const fill = (text: string, params: Params, wrap: (v: string) => string) =>
    text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? wrap(String(params[name])) : whole));
  return {
    locale,
    t: (key, params = {}) => fill(message(key, params), params, (v) => v),
    th: (key, params = {}) =>
      fill(escapeHtml(message(key, params)), params, (v) => `<strong>${escapeHtml(v)}</strong>`),
  };
}
