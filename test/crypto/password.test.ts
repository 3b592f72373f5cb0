// Passwords are argon2id (RFC 9106) with OWASP's minimum parameters.
import { describe, expect, it } from 'vitest';
import { hashPassword, isArgon2idHash, verifyAgainstDummy, verifyPassword } from '../../src/crypto/password.js';

describe('password hashing', () => {
  it('hashes with argon2id, m=19 MiB, t=2, p=1, salted', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^\$argon2id\$v=19\$/);
    expect(a).toContain('m=19456');
    expect(a).toContain('t=2');
    expect(a).toContain('p=1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
  });

  it('verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapl')).toBe(false);
    expect(await verifyPassword(hash, '')).toBe(false);
  });

  it('treats a damaged hash as a wrong password, not an error', async () => {
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
    expect(await verifyPassword('', 'x')).toBe(false);
  });

  it('recognises argon2id strings whatever the order of their parameters', async () => {
    expect(isArgon2idHash(await hashPassword('x'))).toBe(true);
    expect(isArgon2idHash('$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA')).toBe(true);
    expect(isArgon2idHash('$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA')).toBe(false);
    expect(isArgon2idHash('$argon2id$v=19$m=65536,t=3$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA')).toBe(false);
    expect(isArgon2idHash('$2b$10$abcdefghijklmnopqrstuv')).toBe(false);
    expect(isArgon2idHash('plaintext')).toBe(false);
  });

  it('spends a verification on unknown users too, and always says no', async () => {
    expect(await verifyAgainstDummy('dummy password that matches nothing')).toBe(false);
  });
});
