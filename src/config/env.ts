// Environment variables (INTERFACE.md "Environment"), parsed once at start with zod.
import { z } from 'zod';
import { SIGNING_ALGS } from '../crypto/signing-algs.js';
import { brandEnvShape } from './brand-env.js';

const SECONDS = 'must be a whole number of seconds from 1 to 31536000';
const seconds = (fallback: number) => z.coerce.number({ error: SECONDS }).int(SECONDS).positive(SECONDS).max(31_536_000, SECONDS).default(fallback);
const whole = (message: string, min: number, max: number, fallback: number) =>
  z.coerce.number({ error: message }).int(message).min(min, message).max(max, message).default(fallback);
const count = (fallback: number, max = 1_000_000) => whole(`must be a whole number from 1 to ${max}`, 1, max, fallback);
const millis = (fallback: number) => whole('must be a whole number of milliseconds from 0 to 60000', 0, 60_000, fallback);
const days = (fallback: number) => whole('must be a whole number of days from 1 to 3650', 1, 3650, fallback);
const PROXY = 'must be true, false, or a comma-separated list of addresses, CIDR ranges or loopback/linklocal/uniquelocal';
/** Fastify's trustProxy (https://fastify.dev/docs/latest/Reference/Server/#trustproxy), from text. */
const trustProxy = z
  .string()
  .trim()
  .min(1, PROXY)
  .transform((v): boolean | string[] => (v === 'true' ? true : v === 'false' ? false : v.split(',').map((a) => a.trim())))
  .refine((v) => !Array.isArray(v) || v.every((a) => /^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(a)), PROXY);
const PORT = 'must be a port number from 0 to 65535';
const TIMEOUT = 'must be a whole number of seconds from 1 to 600';
const METRICS_PORT = 'must be a port number from 1 to 65535';
const emptyAsUnset = (v: unknown) => (v === '' ? undefined : v);
const DAYS = 'must be a whole number of days from 1 to 3650';
const ATTEMPTS = 'must be a whole number from 1 to 100';
/** How long relying parties may cache the JWKS (its Cache-Control max-age, src/routes/jwks.ts). */
export const JWKS_MAX_AGE_SECONDS = 300;

export const envSchema = z
  .object({
    NODE_ENV: z.preprocess(emptyAsUnset, z.string().optional()),
    PORT: z.preprocess(emptyAsUnset, z.coerce.number({ error: PORT }).int(PORT).min(0, PORT).max(65535, PORT).default(3000)),
    HOST: z.preprocess(emptyAsUnset, z.string().default('127.0.0.1')),
    ISSUER: z.preprocess(
      emptyAsUnset,
      z
        .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
        .refine((u) => !/[?#]/.test(u), 'must not have a query or fragment (RFC 8414 §2)')
        .transform((u) => u.replace(/\/+$/, ''))
        .optional(),
    ),
    DATABASE_URL: z.preprocess(
      emptyAsUnset,
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
        .optional(),
    ),
    // PostgreSQL: seconds to connect (or wait for a free connection) and for one statement (src/db/pg-pool.ts)
    DATABASE_CONNECT_TIMEOUT: z.preprocess(emptyAsUnset, z.coerce.number({ error: TIMEOUT }).int(TIMEOUT).min(1, TIMEOUT).max(600, TIMEOUT).default(3)),
    DATABASE_QUERY_TIMEOUT: z.preprocess(emptyAsUnset, z.coerce.number({ error: TIMEOUT }).int(TIMEOUT).min(1, TIMEOUT).max(600, TIMEOUT).default(5)),
    DATA_DIR: z.preprocess(emptyAsUnset, z.string().default('./data')),
    CLIENTS_FILE: z.preprocess(emptyAsUnset, z.string().default('config/clients.json')),
    USERS_FILE: z.preprocess(emptyAsUnset, z.string().optional()),
    SECRET_KEY: z.preprocess(emptyAsUnset, z.string().min(32, 'must be at least 32 characters').optional()),
    // SECRET_KEY rotation: what was sealed or signed under the previous key still opens (README)
    SECRET_KEY_PREVIOUS: z.preprocess(emptyAsUnset, z.string().min(32, 'must be at least 32 characters').optional()),
    KEY_PUBLICATION_DELAY_SECONDS: z.preprocess(emptyAsUnset, seconds(600)),
    KEY_ROTATION_DAYS: z.preprocess(emptyAsUnset, z.coerce.number({ error: DAYS }).int(DAYS).positive(DAYS).max(3650, DAYS).optional()),
    LOG_LEVEL: z.preprocess(
      emptyAsUnset,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    ACCESS_TOKEN_TTL: z.preprocess(emptyAsUnset, seconds(3600)),
    // the JWS algorithm of access tokens (RFC 9068 §2.1), unless a client names its own
    ACCESS_TOKEN_SIGNING_ALG: z.preprocess(emptyAsUnset, z.enum(SIGNING_ALGS, { error: `must be one of ${SIGNING_ALGS.join(', ')}` }).default('RS256')),
    ID_TOKEN_TTL: z.preprocess(emptyAsUnset, seconds(3600)),
    REFRESH_TOKEN_TTL: z.preprocess(emptyAsUnset, seconds(1_209_600)),
    AUTHORIZATION_CODE_TTL: z.preprocess(emptyAsUnset, seconds(60)),
    DEVICE_CODE_TTL: z.preprocess(emptyAsUnset, seconds(600)),
    LOGIN_SESSION_TTL: z.preprocess(emptyAsUnset, seconds(86_400)),
    // /metrics (src/metrics): on a listener of its own, and/or on the public one behind a bearer token; neither: off
    METRICS_PORT: z.preprocess(emptyAsUnset, z.coerce.number({ error: METRICS_PORT }).int(METRICS_PORT).min(1, METRICS_PORT).max(65535, METRICS_PORT).optional()),
    METRICS_HOST: z.preprocess(emptyAsUnset, z.string().default('127.0.0.1')),
    // RFC 6750 §2.1: the b64token syntax, so that it can be sent as `Authorization: Bearer <token>`
    METRICS_TOKEN: z.preprocess(emptyAsUnset, z.string().regex(/^[A-Za-z0-9\-._~+/]+=*$/, 'must be letters, digits and -._~+/ (RFC 6750 §2.1 b64token)').optional()),
    // RFC 9126 §2.2: lifetime of a request_uri; §6: the AS may require PAR of every client
    PUSHED_AUTHORIZATION_REQUEST_TTL: z.preprocess(emptyAsUnset, seconds(60)),
    REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: z.preprocess(emptyAsUnset, z.stringbool({ error: 'must be true or false' }).default(false)),
    // RFC 9449 §8, §9: every DPoP proof must carry a nonce this server provided (use_dpop_nonce otherwise)
    DPOP_NONCE_REQUIRED: z.preprocess(emptyAsUnset, z.stringbool({ error: 'must be true or false' }).default(false)),
    // which proxies may set X-Forwarded-For: the client address that sign-in limits count by
    TRUST_PROXY: z.preprocess(emptyAsUnset, trustProxy.optional()),
    // sign-in protection (src/authentication/credentials.ts, README "Sign-in protection")
    LOGIN_LOCK_AFTER: z.preprocess(emptyAsUnset, count(10)),
    LOGIN_LOCK_SECONDS: z.preprocess(emptyAsUnset, seconds(900)),
    LOGIN_SLOW_AFTER: z.preprocess(emptyAsUnset, count(3)),
    LOGIN_SLOW_STEP_MS: z.preprocess(emptyAsUnset, millis(1000)),
    LOGIN_SLOW_MAX_MS: z.preprocess(emptyAsUnset, millis(3000)),
    LOGIN_ADDRESS_LOCK_AFTER: z.preprocess(emptyAsUnset, count(100)),
    // NIST SP 800-63B §5.2.2: no more than 100 consecutive failures before a stronger measure
    LOGIN_ACCOUNT_MAX_FAILURES: z.preprocess(emptyAsUnset, count(100, 100)),
    LOGIN_ACCOUNT_FAILURE_DAYS: z.preprocess(emptyAsUnset, days(90)),
    LOGIN_KNOWN_ADDRESS_DAYS: z.preprocess(emptyAsUnset, days(90)),
    // the cleanup job (src/maintenance/cleanup.ts)
    // at most a day (Node timers cannot wait longer than about 24.8 days)
    CLEANUP_INTERVAL: z.preprocess(emptyAsUnset, whole('must be a whole number of seconds from 1 to 86400', 1, 86_400, 3600)),
    CLEANUP_BATCH_SIZE: z.preprocess(emptyAsUnset, count(1000, 100_000)),
    AUDIT_RETENTION_DAYS: z.preprocess(emptyAsUnset, days(365)),
    // how long SIGTERM waits for requests in flight before the process exits anyway (code 1)
    SHUTDOWN_GRACE_SECONDS: z.preprocess(emptyAsUnset, seconds(10)),
    // Back-Channel Logout 1.0 §2.5 deliveries (src/oauth/backchannel-logout): seconds one attempt
    // may take, seconds before the first retry (doubling after each failure), attempts in all
    BACKCHANNEL_LOGOUT_TIMEOUT: z.preprocess(emptyAsUnset, seconds(5)),
    BACKCHANNEL_LOGOUT_RETRY_DELAY: z.preprocess(emptyAsUnset, seconds(10)),
    BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: z.preprocess(emptyAsUnset, z.coerce.number({ error: ATTEMPTS }).int(ATTEMPTS).min(1, ATTEMPTS).max(100, ATTEMPTS).default(10)),
    // the sign-in pages: brand and default language (src/config/brand-env.ts)
    ...brandEnvShape,
    // the playground at /playground (src/playground): development only; default on there
    PLAYGROUND: z.preprocess(emptyAsUnset, z.stringbool({ error: 'must be true or false' }).optional()),
  })
  .refine((env) => !(env.BRAND_LOGO_URL && env.BRAND_LOGO_FILE), { path: ['BRAND_LOGO_FILE'], message: 'set BRAND_LOGO_URL or BRAND_LOGO_FILE, not both' })
  .refine((env) => env.METRICS_PORT === undefined || env.METRICS_PORT !== env.PORT, { path: ['METRICS_PORT'], message: 'must differ from PORT' })
  .transform((env) => {
    const production = env.NODE_ENV === 'production';
    return {
      ...env,
      production,
      ISSUER: env.ISSUER ?? `http://localhost:${env.PORT}`,
      // dev default per INTERFACE.md; production creates users only when told to
      USERS_FILE: env.USERS_FILE ?? (production ? undefined : 'config/users.json'),
      // production: trust proxies on loopback and private networks only, so a client on the
      // internet cannot choose its own address with X-Forwarded-For; development: none
      TRUST_PROXY: env.TRUST_PROXY ?? (production ? ['loopback', 'linklocal', 'uniquelocal'] : false),
      PLAYGROUND: env.PLAYGROUND ?? !production,
    };
  });

export type Env = z.output<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Formats zod issues as `path: message` lines, the shape every config refusal uses. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((i) => {
      let path = prefix;
      for (const p of i.path) path += typeof p === 'number' ? `[${p}]` : path ? `.${String(p)}` : String(p);
      return `${path || '(root)'}: ${i.message}`;
    })
    .join('; ');
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) throw new ConfigError(`environment: ${formatIssues(parsed.error.issues)}`);
  const env = parsed.data;
  if (env.production) {
    // INTERFACE.md: production refuses unsafe settings with a clear message.
    if (!env.ISSUER.startsWith('https://')) throw new ConfigError('environment: ISSUER must be https:// in production');
    if (!env.SECRET_KEY) throw new ConfigError('environment: SECRET_KEY is required in production (32+ random characters)');
    if (env.BRAND_LOGO_URL && !env.BRAND_LOGO_URL.startsWith('https://')) throw new ConfigError('environment: BRAND_LOGO_URL must be https:// in production');
    // the playground signs in as the demo clients with their secrets: never in production
    if (env.PLAYGROUND) throw new ConfigError('environment: PLAYGROUND cannot be true in production');
    if (env.METRICS_TOKEN && env.METRICS_TOKEN.length < 32) throw new ConfigError('environment: METRICS_TOKEN must be at least 32 characters in production');
  }
  if (env.SECRET_KEY_PREVIOUS && !env.SECRET_KEY) throw new ConfigError('environment: SECRET_KEY_PREVIOUS needs SECRET_KEY, the new key, beside it');
  if (env.SECRET_KEY_PREVIOUS !== undefined && env.SECRET_KEY_PREVIOUS === env.SECRET_KEY) throw new ConfigError('environment: SECRET_KEY_PREVIOUS must differ from SECRET_KEY');
  // a new signing key may sign only once every cached copy of the JWKS has it
  if (env.KEY_PUBLICATION_DELAY_SECONDS <= JWKS_MAX_AGE_SECONDS)
    throw new ConfigError(`environment: KEY_PUBLICATION_DELAY_SECONDS must be longer than the ${JWKS_MAX_AGE_SECONDS} s relying parties may cache the JWKS for`);
  if (env.KEY_ROTATION_DAYS !== undefined && env.KEY_ROTATION_DAYS * 86_400 <= env.KEY_PUBLICATION_DELAY_SECONDS)
    throw new ConfigError('environment: KEY_ROTATION_DAYS must be longer than KEY_PUBLICATION_DELAY_SECONDS');
  return env;
}
