// Environment variables (INTERFACE.md "Environment"), parsed once at start with zod.
import { z } from 'zod';

const SECONDS = 'must be a whole number of seconds from 1 to 31536000';
const seconds = (fallback: number) => z.coerce.number({ error: SECONDS }).int(SECONDS).positive(SECONDS).max(31_536_000, SECONDS).default(fallback);
const PORT = 'must be a port number from 0 to 65535';
const TIMEOUT = 'must be a whole number of seconds from 1 to 600';
const emptyAsUnset = (v: unknown) => (v === '' ? undefined : v);

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
    LOG_LEVEL: z.preprocess(
      emptyAsUnset,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    ACCESS_TOKEN_TTL: z.preprocess(emptyAsUnset, seconds(3600)),
    ID_TOKEN_TTL: z.preprocess(emptyAsUnset, seconds(3600)),
    REFRESH_TOKEN_TTL: z.preprocess(emptyAsUnset, seconds(1_209_600)),
    AUTHORIZATION_CODE_TTL: z.preprocess(emptyAsUnset, seconds(60)),
    DEVICE_CODE_TTL: z.preprocess(emptyAsUnset, seconds(600)),
    LOGIN_SESSION_TTL: z.preprocess(emptyAsUnset, seconds(86_400)),
  })
  .transform((env) => {
    const production = env.NODE_ENV === 'production';
    return {
      ...env,
      production,
      ISSUER: env.ISSUER ?? `http://localhost:${env.PORT}`,
      // dev default per INTERFACE.md; production creates users only when told to
      USERS_FILE: env.USERS_FILE ?? (production ? undefined : 'config/users.json'),
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
  }
  return env;
}
