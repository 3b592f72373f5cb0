// DPoP proofs made by hand (RFC 9449 §4.2), so each check of §4.3 can be broken one at a time.
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface ProofKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
}

export async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

export interface ProofOptions {
  htm?: string;
  htu: string;
  iat?: number;
  jti?: string;
  /** the access token to hash into ath */
  accessToken?: string;
  ath?: string;
  nonce?: string;
  typ?: string;
  /** replaces the public jwk in the header */
  jwk?: JWK;
  /** claims to leave out */
  omit?: string[];
}

export function ath(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

export async function makeProof(key: ProofKey, o: ProofOptions): Promise<string> {
  const claims: Record<string, unknown> = {
    htm: o.htm ?? 'POST',
    htu: o.htu,
    iat: o.iat ?? Math.floor(Date.now() / 1000),
    jti: o.jti ?? randomUUID(),
  };
  if (o.accessToken !== undefined) claims.ath = ath(o.accessToken);
  if (o.ath !== undefined) claims.ath = o.ath;
  if (o.nonce !== undefined) claims.nonce = o.nonce;
  for (const c of o.omit ?? []) delete claims[c];
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: o.typ ?? 'dpop+jwt', jwk: o.jwk ?? key.publicJwk }).sign(key.privateKey);
}

/** An unsecured JWS (alg none) with a public key in the header: RFC 9449 §4.3 item 5 refuses it. */
export function unsignedProof(key: ProofKey, htu: string): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${enc({ htm: 'POST', htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}.`;
}
