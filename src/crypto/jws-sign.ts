// Signs our JWTs (compact JWS, RFC 7515 §7.1) with node:crypto.sign in libuv's thread pool
// (its callback form), not with jose's WebCrypto sign. Both run the same OpenSSL signature off the
// main thread; node:crypto takes much less of the main thread per token (which also parses and
// answers every request) and signs as fast or faster: docs/BENCHMARKS.md ("Signing:
// node:crypto against jose", npm run bench:signing). jose still makes, imports and exports the
// keys and verifies every token (src/crypto/keystore.ts).
import { constants, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { SigningAlg } from './signing-algs.js';

/** node:crypto.sign's hash and key options for a JWS alg. */
export function nodeSignParams(alg: SigningAlg, key: KeyObject): { hash: string | null; key: SignKeyObjectInput } {
  switch (alg) {
    // RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256
    case 'RS256':
      return { hash: 'sha256', key: { key } };
    // RFC 7518 §3.5: RSASSA-PSS, SHA-256, MGF1 with SHA-256, a salt as long as the hash (32 bytes)
    case 'PS256':
      return { hash: 'sha256', key: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } };
    // RFC 7518 §3.4: ECDSA P-256 with SHA-256, the signature as R || S (not DER)
    case 'ES256':
      return { hash: 'sha256', key: { key, dsaEncoding: 'ieee-p1363' } };
    // RFC 8037 §3.1: Ed25519 signs the message itself (no separate hash)
    case 'EdDSA':
      return { hash: null, key: { key } };
  }
}

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface JwsHeader {
  alg: SigningAlg;
  kid: string;
  typ?: string;
}

/** The compact serialization of `payload` signed under `header` with `key`. */
export function signJwt(header: JwsHeader, payload: JWTPayload, key: KeyObject): Promise<string> {
  const input = `${encode(header)}.${encode(payload)}`;
  const params = nodeSignParams(header.alg, key);
  return new Promise((resolve, reject) => {
    sign(params.hash, Buffer.from(input), params.key, (err, signature) => (err ? reject(err) : resolve(`${input}.${signature.toString('base64url')}`)));
  });
}
