// USERS_FILE (INTERFACE.md "Users"): users created or updated at start.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isArgon2idHash } from '../crypto/password.js';
import { ConfigError } from './env.js';
import { parseConfigFile } from './interpolate.js';

const address = z.looseObject({
  formatted: z.string().optional(),
  street_address: z.string().optional(),
  locality: z.string().optional(),
  region: z.string().optional(),
  postal_code: z.string().optional(),
  country: z.string().optional(),
});

// OIDC Core §5.1 standard claims a user may have.
export const userClaimsSchema = z.looseObject({
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  middle_name: z.string().optional(),
  nickname: z.string().optional(),
  preferred_username: z.string().optional(),
  profile: z.string().optional(),
  picture: z.string().optional(),
  website: z.string().optional(),
  email: z.string().optional(),
  email_verified: z.boolean().optional(),
  gender: z.string().optional(),
  birthdate: z.string().optional(),
  zoneinfo: z.string().optional(),
  locale: z.string().optional(),
  phone_number: z.string().optional(),
  phone_number_verified: z.boolean().optional(),
  address: address.optional(),
  updated_at: z.number().optional(),
});
export type UserClaims = z.output<typeof userClaimsSchema>;

export const subSchema = z.string().min(1).max(255).regex(/^[\x21-\x7E]+$/, 'must be visible ASCII without spaces');

const userSchema = z
  .strictObject({
    username: z.string().min(1, 'is required').max(255),
    password: z.string().min(1).optional(),
    password_hash: z.string().refine(isArgon2idHash, 'must be an argon2id hash ($argon2id$v=19$...)').optional(),
    sub: subSchema.optional(),
    claims: userClaimsSchema.default({}),
  })
  .refine((u) => !!u.password !== !!u.password_hash, { message: 'give exactly one of password or password_hash', path: ['password'] });

const usersFileSchema = z.strictObject({ $schema: z.string().optional(), users: z.array(userSchema) }).superRefine((f, ctx) => {
  const seen = new Set<string>();
  f.users.forEach((u, i) => {
    if (seen.has(u.username)) ctx.addIssue({ code: 'custom', path: ['users', i, 'username'], message: `duplicate username "${u.username}"` });
    seen.add(u.username);
  });
});

export type UserConfig = z.output<typeof userSchema>;

export function parseUsers(text: string, file: string, opts: { production: boolean; env?: NodeJS.ProcessEnv }): UserConfig[] {
  const parsed = parseConfigFile(text, file, usersFileSchema, opts.env ?? process.env);
  if (opts.production) {
    const i = parsed.users.findIndex((u) => u.password !== undefined);
    if (i >= 0) throw new ConfigError(`${file}: users[${i}].password: plaintext passwords are refused in production; use password_hash (npm run cli -- users hash)`);
  }
  return parsed.users;
}

export function loadUsers(file: string, opts: { production: boolean; env?: NodeJS.ProcessEnv }): UserConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the users file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseUsers(text, file, opts);
}
