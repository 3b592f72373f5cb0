// Which user claims a token or userinfo carries: by scope (OIDC Core §5.4) and by the `claims`
// request parameter (§5.5).
import { z } from 'zod';
import type { User } from '../repositories/users.js';
import { OAuthError } from './errors.js';

/** OIDC Core §5.4: the claims each scope value asks for. */
export const SCOPE_CLAIMS: Record<string, readonly string[]> = {
  profile: [
    'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile',
    'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

// only claims this server actually issues (Discovery §3: advertise what works)
export const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'at_hash', 'sid', ...Object.values(SCOPE_CLAIMS).flat()];

const individualClaim = z
  .object({ essential: z.boolean().optional(), value: z.unknown().optional(), values: z.array(z.unknown()).optional() })
  .loose()
  .nullable();
const claimsMember = z.record(z.string(), individualClaim);

/** The `claims` request parameter (OIDC Core §5.5). */
export const claimsRequestSchema = z.object({ userinfo: claimsMember.optional(), id_token: claimsMember.optional() }).loose();
export type ClaimsRequest = z.output<typeof claimsRequestSchema>;

/** Parses the `claims` parameter; a malformed one is invalid_request. */
export function parseClaimsParameter(value: string | undefined): ClaimsRequest | undefined {
  if (value === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    throw new OAuthError('invalid_request', 'claims must be a JSON object (OIDC Core 5.5)');
  }
  const parsed = claimsRequestSchema.safeParse(raw);
  if (!parsed.success) throw new OAuthError('invalid_request', 'claims must be a JSON object with userinfo and/or id_token members (OIDC Core 5.5)');
  return parsed.data;
}

/** Names of the claims that the scopes (plus any individually requested names) ask for. */
export function claimNames(scopes: Iterable<string>, requested: Iterable<string> = []): Set<string> {
  const names = new Set<string>(requested);
  for (const s of scopes) for (const c of SCOPE_CLAIMS[s] ?? []) names.add(c);
  names.delete('sub');
  return names;
}

/** The user's values for those claims; claims the user does not have are left out (§5.3.2). */
export function userClaims(user: User, names: Iterable<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const all = user.claims as Record<string, unknown>;
  for (const name of names) {
    if (name === 'updated_at') {
      out.updated_at = typeof all.updated_at === 'number' ? all.updated_at : Math.floor(user.updated_at.getTime() / 1000);
      continue;
    }
    if (all[name] !== undefined && all[name] !== null) out[name] = all[name];
  }
  return out;
}
