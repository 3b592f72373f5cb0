// The JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) our own tokens may be signed with, and which
// of them are in use: the operator chooses them for access tokens (ACCESS_TOKEN_SIGNING_ALG, and
// per client access_token_signed_response_alg) and per client for ID tokens
// (id_token_signed_response_alg, OIDC Registration §2). The keystore keeps a key for each one in
// use. EdDSA is Ed25519 (JWK kty OKP, crv Ed25519).

export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * Keys every server has, whatever the configuration: RS256 is the ID token algorithm of a client
 * that names none (OIDC Core §3.1.3.7, Discovery §3), ES256 has had a key since the first
 * release, and relying parties may hold on to it.
 */
export const BASE_SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'ES256'];

/** jose generateKeyPair options: 2048-bit RSA (RFC 7518 §3.3, §3.5), Ed25519 for EdDSA. */
export function keyGenerationOptions(alg: SigningAlg): { modulusLength?: number; crv?: string } {
  if (alg === 'RS256' || alg === 'PS256') return { modulusLength: 2048 };
  if (alg === 'EdDSA') return { crv: 'Ed25519' };
  return {};
}

export interface SigningAlgChoices {
  access_token_signed_response_alg?: SigningAlg | undefined;
  id_token_signed_response_alg: SigningAlg;
}

/** The algorithm of a client's access tokens: its own choice, else the server's. */
export function accessTokenSigningAlg(env: { ACCESS_TOKEN_SIGNING_ALG: SigningAlg }, client: Pick<SigningAlgChoices, 'access_token_signed_response_alg'>): SigningAlg {
  return client.access_token_signed_response_alg ?? env.ACCESS_TOKEN_SIGNING_ALG;
}

/** Every algorithm the server signs with for this configuration and these clients. */
export function signingAlgsInUse(env: { ACCESS_TOKEN_SIGNING_ALG: SigningAlg }, clients: readonly SigningAlgChoices[] = []): SigningAlg[] {
  const algs = new Set<SigningAlg>([...BASE_SIGNING_ALGS, env.ACCESS_TOKEN_SIGNING_ALG]);
  for (const c of clients) {
    algs.add(c.id_token_signed_response_alg);
    if (c.access_token_signed_response_alg) algs.add(c.access_token_signed_response_alg);
  }
  return SIGNING_ALGS.filter((a) => algs.has(a));
}
