// RFC 7636: S256 only, verifier syntax (§4.1), transform (§4.2), comparison (§4.6).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isValidCodeChallenge, isValidCodeVerifier, s256Challenge, verifyCodeVerifier } from '../../src/oauth/pkce.js';

const s256 = (v: string) => createHash('sha256').update(v).digest('base64url');

describe('PKCE', () => {
  it('matches the example of RFC 7636 Appendix B', () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    expect(s256Challenge(verifier)).toBe(challenge);
    expect(verifyCodeVerifier(verifier, challenge)).toBe(true);
  });

  it('refuses a verifier that does not hash to the challenge', () => {
    expect(verifyCodeVerifier('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(false);
  });

  it('refuses the challenge itself sent as verifier (plain)', () => {
    const challenge = s256('a'.repeat(43));
    expect(verifyCodeVerifier(challenge, challenge)).toBe(false);
  });

  it('refuses verifiers outside 43-128 characters of [A-Za-z0-9-._~], even when their hash matches', () => {
    for (const bad of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}/`, `${'a'.repeat(42)}é`]) {
      expect(isValidCodeVerifier(bad)).toBe(false);
      expect(verifyCodeVerifier(bad, s256(bad))).toBe(false);
    }
    for (const good of ['a'.repeat(43), 'Z'.repeat(128), `${'0'.repeat(39)}-._~`]) {
      expect(isValidCodeVerifier(good)).toBe(true);
      expect(verifyCodeVerifier(good, s256(good))).toBe(true);
    }
  });

  it('accepts only a 43-character base64url challenge', () => {
    expect(isValidCodeChallenge(s256('x'.repeat(50)))).toBe(true);
    expect(isValidCodeChallenge('short')).toBe(false);
    expect(isValidCodeChallenge(`${s256('x'.repeat(50))}=`)).toBe(false);
    expect(isValidCodeChallenge(s256('x'.repeat(50)).replace(/.$/, '+'))).toBe(false);
  });
});
