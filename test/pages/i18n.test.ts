// The message catalogues (src/i18n) and how a page's language is chosen: ui_locales first
// (OpenID Connect Core §3.1.2.1), then Accept-Language, then DEFAULT_LOCALE.
import { describe, expect, it } from 'vitest';
import { CATALOGUES, SUPPORTED_LOCALES, translator } from '../../src/i18n/catalogues.js';
import { chooseLocale } from '../../src/i18n/negotiate.js';

const params = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the catalogues', () => {
  it('ship English and French', () => {
    expect(SUPPORTED_LOCALES).toEqual(['en', 'fr']);
  });

  it('have the same keys, each message with the same {parameters}, none empty', () => {
    const [reference, ...others] = Object.values(CATALOGUES);
    const keys = Object.keys(reference!).sort();
    for (const catalogue of others) {
      expect(Object.keys(catalogue).sort()).toEqual(keys);
      for (const key of keys) {
        const text = (catalogue as Record<string, string>)[key]!;
        expect(text.trim(), key).not.toBe('');
        expect(params(text), key).toEqual(params((reference as Record<string, string>)[key]!));
      }
    }
  });

  it('fill in parameters, and choose the plural form by count', () => {
    const en = translator('en');
    expect(en.t('login.locked', { count: 1 })).toContain('locked for 1 minute.');
    expect(en.t('login.locked', { count: 15 })).toContain('locked for 15 minutes.');
    // French: 0 and 1 are singular (CLDR)
    expect(translator('fr').t('login.locked', { count: 0 })).toContain('pendant 0 minute.');
    expect(en.t('consent.title', { client: 'Printer' })).toBe('Allow Printer to use your account?');
  });

  it('escape parameters in HTML and set them in <strong>', () => {
    expect(translator('en').th('consent.asking', { client: '<script>x</script>' })).toBe('<strong>&lt;script&gt;x&lt;/script&gt;</strong> is asking to:');
    // a message's own characters are escaped too
    expect(translator('en').th('consent.scope_other', { scope: 'a&b' })).toBe('Access &quot;<strong>a&amp;b</strong>&quot;');
  });
});

describe('choosing the language', () => {
  it('takes the first of ui_locales that there is a catalogue for, before Accept-Language', () => {
    expect(chooseLocale({ ui_locales: 'de fr en', acceptLanguage: 'en', fallback: 'en' })).toBe('fr');
    expect(chooseLocale({ ui_locales: 'fr-CA', acceptLanguage: 'en', fallback: 'en' })).toBe('fr');
    expect(chooseLocale({ ui_locales: 'EN-gb fr', acceptLanguage: 'fr', fallback: 'fr' })).toBe('en');
  });

  it('falls back to Accept-Language, by weight, when ui_locales names none of ours', () => {
    expect(chooseLocale({ ui_locales: 'de ja', acceptLanguage: 'de;q=1, fr;q=0.8, en;q=0.5', fallback: 'en' })).toBe('fr');
    expect(chooseLocale({ acceptLanguage: 'fr-BE,fr;q=0.9,en;q=0.8', fallback: 'en' })).toBe('fr');
    expect(chooseLocale({ acceptLanguage: 'en-US,en;q=0.9', fallback: 'fr' })).toBe('en');
  });

  it('falls back to the default for no header, a language we lack, or *', () => {
    expect(chooseLocale({ fallback: 'fr' })).toBe('fr');
    expect(chooseLocale({ acceptLanguage: 'de-DE, ja', fallback: 'fr' })).toBe('fr');
    expect(chooseLocale({ acceptLanguage: '*', fallback: 'fr' })).toBe('fr');
    expect(chooseLocale({ ui_locales: ' ', acceptLanguage: 'garbage;;q=x', fallback: 'en' })).toBe('en');
  });
});
