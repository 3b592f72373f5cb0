import { randomBytes } from 'node:crypto';

/** A random URL-safe value; 32 bytes = 256 bits of entropy by default (RFC 6749 §10.10 asks for at least 128). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
