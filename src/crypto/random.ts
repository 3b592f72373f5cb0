import { randomBytes, randomFillSync } from 'node:crypto';

// Random values come from a pool that one randomFillSync call refills 4 KiB at a time, as
// Node's own randomUUID() does: asking OpenSSL for 16 bytes per token costs about as much as
// asking for 4 KiB, and the token endpoint draws a jti for every access token it mints
// (docs/BENCHMARKS.md). Each byte is handed out once and zeroed in the pool as it leaves.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** A random URL-safe value; 32 bytes = 256 bits of entropy by default (RFC 6749 §10.10 asks for at least 128). */
export function randomToken(bytes = 32): string {
  if (bytes > POOL_SIZE / 8) return randomBytes(bytes).toString('base64url');
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const value = pool.toString('base64url', offset, offset + bytes);
  pool.fill(0, offset, offset + bytes);
  offset += bytes;
  return value;
}
