// Secrets at rest are SHA-256 hashes; comparisons take time independent of where they differ.
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, secretMatchesHash, sha256 } from '../../src/crypto/hash.js';
import { randomToken } from '../../src/crypto/random.js';

describe('hashing', () => {
  it('sha256 is SHA-256 in base64url (FIPS 180-2 test vector "abc")', () => {
    expect(sha256('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(sha256('abc')).not.toMatch(/[+/=]/);
  });

  it('secretMatchesHash accepts the secret and nothing else', () => {
    const stored = sha256('client-secret-0123456789-0123456789');
    expect(secretMatchesHash('client-secret-0123456789-0123456789', stored)).toBe(true);
    expect(secretMatchesHash('client-secret-0123456789-012345678', stored)).toBe(false);
    expect(secretMatchesHash('', stored)).toBe(false);
    // a damaged stored value is a mismatch, not an exception
    expect(secretMatchesHash('x', 'not-a-hash')).toBe(false);
    expect(secretMatchesHash('x', '')).toBe(false);
  });

  it('constantTimeEqual compares strings of any length without throwing', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    // crypto.timingSafeEqual alone throws on different lengths; hashing first avoids that and the length leak
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('é', 'e\u0301')).toBe(false);
  });
});

describe('randomToken', () => {
  it('is URL-safe, 256 bits by default, and never repeats', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken()));
    expect(tokens.size).toBe(1000);
    for (const t of [...tokens].slice(0, 20)) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    }
    expect(Buffer.from(randomToken(16), 'base64url')).toHaveLength(16);
  });
});
