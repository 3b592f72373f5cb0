// Environment variables of the sign-in pages' look and language (README "Branding and
// languages"), spread into the env schema of env.ts.
import { z } from 'zod';
import { SUPPORTED_LOCALES, type Locale } from '../i18n/catalogues.js';

const emptyAsUnset = (v: unknown) => (v === '' ? undefined : v);
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

export const brandEnvShape = {
  BRAND_NAME: z.preprocess(emptyAsUnset, z.string().max(100, 'must be at most 100 characters').default('OAuth Server')),
  BRAND_LOGO_URL: z.preprocess(emptyAsUnset, httpUrl.optional()),
  BRAND_LOGO_FILE: z.preprocess(emptyAsUnset, z.string().regex(/\.(svg|png|jpe?g|webp|gif)$/i, 'must be a .svg, .png, .jpg, .webp or .gif file').optional()),
  // a CSS hex colour (CSS Color 4 §5.2), #rgb or #rrggbb; nothing else can reach the stylesheet
  BRAND_PRIMARY_COLOR: z.preprocess(emptyAsUnset, z.string().regex(/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a hex colour like #1f6feb').default('#2557d6')),
  BRAND_SUPPORT_URL: z.preprocess(emptyAsUnset, z.url({ protocol: /^(https?|mailto)$/, message: 'must be an http(s) or mailto: URL' }).optional()),
  BRAND_PRIVACY_URL: z.preprocess(emptyAsUnset, httpUrl.optional()),
  DEFAULT_LOCALE: z.preprocess(emptyAsUnset, z.enum(SUPPORTED_LOCALES as [Locale, ...Locale[]], { error: `must be one of ${SUPPORTED_LOCALES.join(', ')}` }).default('en')),
};
