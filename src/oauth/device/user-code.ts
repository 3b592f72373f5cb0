// The user_code of the device authorization grant (RFC 8628 §6.1).
//
// Eight characters from the 20 consonants §6.1 suggests (no vowels, so no words are spelled; no
// digits or look-alikes such as 0/O, 1/I), shown as XXXX-XXXX. 20^8 ≈ 2.56e10 codes, about 34.6
// bits of entropy. A code is short-lived (DEVICE_CODE_TTL) and /device limits how often codes
// may be tried (see src/routes/device.ts for the guessing cost).
import { randomInt } from 'node:crypto';

export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A new user_code in its normal form (8 characters, no separator), uniformly random. */
export function generateUserCode(): string {
  let code = '';
  // randomInt draws without modulo bias
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

const NOT_IN_ALPHABET = new RegExp(`[^${USER_CODE_ALPHABET}]`, 'g');

/**
 * §6.1: what the person typed, made comparable: upper case, and everything that is not in the
 * alphabet (dashes, spaces, punctuation) dropped, so "bcdf-ghjk" and "BCDF GHJK" match.
 */
export function normaliseUserCode(input: string): string {
  return input.toUpperCase().replace(NOT_IN_ALPHABET, '');
}

/** True when a normalised value has the shape of a user_code (worth looking up at all). */
export function isWellFormedUserCode(normalised: string): boolean {
  return normalised.length === USER_CODE_LENGTH;
}

/** §6.1: shown to people as XXXX-XXXX, which is easier to read and type. */
export function formatUserCode(normalised: string): string {
  return `${normalised.slice(0, 4)}-${normalised.slice(4)}`;
}
