// AES-256-GCM under a key derived from SECRET_KEY: what keeps private signing keys safe at rest.
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/crypto/secret-box.js';

const box = new SecretBox('secret-key-0123456789-0123456789-0123');

describe('SecretBox', () => {
  it('opens what it sealed', () => {
    const text = JSON.stringify({ kty: 'EC', d: 'private-part', x: 'é✓' });
    expect(box.open(box.seal(text))).toBe(text);
    expect(box.open(box.seal(''))).toBe('');
  });

  it('hides the plaintext and never seals the same way twice (random IV)', () => {
    const a = box.seal('private-part');
    const b = box.seal('private-part');
    expect(a).not.toBe(b);
    expect(a).not.toContain('private-part');
    expect(Buffer.from(a.split('.')[2]!, 'base64url').toString()).not.toContain('private-part');
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('detects tampering with the ciphertext, the IV or the tag', () => {
    const sealed = box.seal('private key material');
    const [v, iv, body, tag] = sealed.split('.') as [string, string, string, string];
    const flip = (s: string) => {
      const bytes = Buffer.from(s, 'base64url');
      bytes[0]! ^= 1;
      return bytes.toString('base64url');
    };
    expect(() => box.open([v, iv, flip(body), tag].join('.'))).toThrow();
    expect(() => box.open([v, flip(iv), body, tag].join('.'))).toThrow();
    expect(() => box.open([v, iv, body, flip(tag)].join('.'))).toThrow();
    expect(() => box.open([v, iv, body].join('.'))).toThrow('unrecognised sealed value');
    expect(() => box.open(`v2.${iv}.${body}.${tag}`)).toThrow('unrecognised sealed value');
  });

  it('cannot be opened under another SECRET_KEY', () => {
    const sealed = box.seal('private key material');
    expect(() => new SecretBox('another-secret-key-0123456789-01234').open(sealed)).toThrow();
    // the same secret derives the same key: another instance with the same SECRET_KEY opens it
    expect(new SecretBox('secret-key-0123456789-0123456789-0123').open(sealed)).toBe('private key material');
  });
});
