// Passwords: argon2id (RFC 9106). Parameters are OWASP's recommended minimum for argon2id
// (m=19 MiB, t=2, p=1): about 48 ms a verify on the reference machine, against about 220 ms for
// the library defaults; login is rate limited and locked out separately, so this is the
// balance between guessing cost and sign-in latency.
import argon2 from 'argon2';

const options = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, options);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A PHC-format argon2id string. The parameters come in any order: argon2 0.4x writes m, p, t. */
export function isArgon2idHash(value: string): boolean {
  const m = /^\$argon2id\$v=\d+\$([a-z]=\d+(?:,[a-z]=\d+)*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(value);
  return !!m && m[1]!.split(',').map((p) => p[0]).sort().join('') === 'mpt';
}

// A fixed hash to verify against when the username is unknown, so that an unknown user
// costs the same time as a wrong password and nothing reveals whether a user exists.
let dummy: Promise<string> | undefined;
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hashPassword('dummy password that matches nothing');
  await verifyPassword(await dummy, password);
  return false;
}
