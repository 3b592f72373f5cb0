// randomToken: URL-safe values of the asked size, never repeated, across pool refills too.
import { describe, expect, it } from 'vitest';
import { randomToken } from '../../src/crypto/random.js';

const decodedLength = (s: string) => Buffer.from(s, 'base64url').length;

describe('randomToken', () => {
  it('gives 32 random bytes (256 bits) by default, base64url without padding', () => {
    const t = randomToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodedLength(t)).toBe(32);
  });

  it('gives the number of bytes asked for, small and large', () => {
    for (const n of [12, 16, 32, 100, 512, 1000, 5000]) expect(decodedLength(randomToken(n)), String(n)).toBe(n);
  });

  it('never hands out the same bytes twice, over many refills of its pool', () => {
    // 50,000 values of 16 bytes = about 200 refills of a 4 KiB pool
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(randomToken(16));
    expect(seen.size).toBe(50_000);
    // and no value is all zeros (bytes handed out are zeroed in the pool, never reused)
    expect(seen.has(Buffer.alloc(16).toString('base64url'))).toBe(false);
  });

  it('looks uniformly random: every byte value occurs, about equally often', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 4_000; i++) for (const b of Buffer.from(randomToken(32), 'base64url')) counts[b]!++;
    // 128,000 bytes: 500 expected per value; a working CSPRNG stays far inside these bounds
    expect(Math.min(...counts)).toBeGreaterThan(350);
    expect(Math.max(...counts)).toBeLessThan(650);
  });
});
