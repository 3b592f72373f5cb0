import { describe, expect, it } from 'vitest';
import { formatUserCode, generateUserCode, isWellFormedUserCode, normaliseUserCode, USER_CODE_ALPHABET } from '../../src/oauth/device/user-code.js';

describe('user_code (RFC 8628 §6.1)', () => {
  it('is 8 characters of the 20 consonants BCDFGHJKLMNPQRSTVWXZ', () => {
    expect(USER_CODE_ALPHABET).toBe('BCDFGHJKLMNPQRSTVWXZ');
    for (let i = 0; i < 200; i++) expect(generateUserCode()).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
  });

  it('uses every character of the alphabet and does not repeat codes', () => {
    const codes = Array.from({ length: 2000 }, generateUserCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(codes.join('')).size).toBe(20);
  });

  it('is shown as XXXX-XXXX', () => {
    expect(formatUserCode('BCDFGHJK')).toBe('BCDF-GHJK');
  });

  it('matches what was typed case- and dash-insensitively', () => {
    for (const typed of ['BCDF-GHJK', 'bcdf-ghjk', 'bcdfghjk', ' Bcdf ghjk ', 'BCDF—GHJK', 'bc.df-gh.jk']) expect(normaliseUserCode(typed)).toBe('BCDFGHJK');
    expect(isWellFormedUserCode(normaliseUserCode('bcdf-ghjk'))).toBe(true);
  });

  it('drops characters outside the alphabet, so a typed vowel or digit makes the code too short', () => {
    expect(normaliseUserCode('ABCD-EFGH')).toBe('BCDFGH');
    expect(isWellFormedUserCode(normaliseUserCode('ABCD-EFGH'))).toBe(false);
    expect(isWellFormedUserCode(normaliseUserCode('BCDF-GHJK-L'))).toBe(false);
    expect(isWellFormedUserCode(normaliseUserCode(''))).toBe(false);
  });
});
