// DPoP proofs (RFC 9449 §4): checked at the token endpoint (§5), and at protected resources
// together with the access token they accompany (§7). jose verifies the JWS against the key in
// its own header; the rest of §4.3 is checked here.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWTPayload, type JWK } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { OAuthError, type OAuthErrorCode } from '../errors.js';
import { currentNonce, isCurrentNonce } from './nonce.js';

/**
 * §5.1 dpop_signing_alg_values_supported. §4.3 item 5: asymmetric algorithms only, never `none`
 * or a MAC; each of these is verified by jose. Ed25519 is the fully-specified name of EdDSA over
 * that curve (RFC 9864), which oauth4webapi signs Ed25519 keys with.
 */
export const DPOP_SIGNING_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'];

/**
 * §4.3 item 11, §11.1: a proof is accepted within this many seconds of its iat, either way (the
 * client's clock may be off; a nonce, §8, is the remedy for clocks further off).
 */
export const PROOF_IAT_WINDOW_SECONDS = 60;
/** added to the window for transit and small clock drift between our instances */
const LEEWAY_SECONDS = 5;

/** A checked proof: the thumbprint (RFC 7638) of its key, what tokens are bound to (§6). */
export interface DpopProof {
  jkt: string;
}

export type DpopRefusal = (error: Extract<OAuthErrorCode, 'invalid_dpop_proof' | 'use_dpop_nonce'>, description: string, headers: Record<string, string>) => OAuthError;

export interface ProofExpectation {
  /** §4.3 item 8: the method of this request */
  htm: string;
  /** §4.3 item 9: this endpoint's URL under the issuer (query and fragment never count) */
  htu: string;
  /** §4.3 item 12, §7.1: at a protected resource, the access token the proof must hash (ath) */
  access_token?: string;
}

/** §4.2 ath: base64url of the SHA-256 of the access token. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** §4.3 item 9: the URI without query and fragment, normalised (RFC 3986 §6.2.2, §6.2.3) by the URL parser. */
function withoutQuery(uri: string): string | undefined {
  if (!URL.canParse(uri)) return undefined;
  const u = new URL(uri);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * Checks the DPoP header of a request (§4.3) and remembers its jti. `refuse` makes the error in
 * the shape of the endpoint: JSON at the token endpoint, a challenge at a protected resource.
 * Sets DPoP-Nonce on the reply when the client uses nonces (§8.2: a fresh one for its next proof).
 */
export async function verifyDpopProof(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, expect: ProofExpectation, refuse: DpopRefusal): Promise<DpopProof> {
  const invalid = (description: string) => refuse('invalid_dpop_proof', `DPoP proof ${description}`, {});
  const header = request.headers.dpop;
  // §4.3 items 1 and 2: exactly one header, one compact JWS (Node joins repeated headers with a comma)
  if (typeof header !== 'string' || header.includes(',')) throw invalid('must be sent in exactly one DPoP header');

  let payload: JWTPayload;
  let jwk: JWK;
  try {
    // §4.3 items 3-7: typ dpop+jwt, an allowed asymmetric alg, a public jwk in the header that
    // verifies the signature (jose's EmbeddedJWK refuses private and symmetric keys)
    const verified = await jwtVerify(header, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_SIGNING_ALGS, requiredClaims: ['jti', 'htm', 'htu', 'iat'] });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk!;
  } catch (e) {
    throw invalid(`is not valid: ${(e as Error).message}`);
  }
  const { jti, htm, htu } = payload;
  if (typeof jti !== 'string' || jti === '') throw invalid('jti must be a non-empty string');
  // §4.3 item 8
  if (htm !== expect.htm) throw invalid(`htm must be ${expect.htm}, the method of this request`);
  // §4.3 item 9
  if (typeof htu !== 'string' || withoutQuery(htu) !== withoutQuery(expect.htu)) throw invalid(`htu must be ${expect.htu}, the URL of this endpoint`);
  // §4.3 item 11
  const now = Math.floor(Date.now() / 1000);
  const iat = payload.iat!;
  if (Math.abs(now - iat) > PROOF_IAT_WINDOW_SECONDS + LEEWAY_SECONDS)
    throw invalid(`iat is more than ${PROOF_IAT_WINDOW_SECONDS} seconds from the server's time; make a fresh proof (or use the DPoP-Nonce)`);
  // §4.3 item 12 / §7.1: bound to the access token it accompanies
  if (expect.access_token !== undefined) {
    if (typeof payload.ath !== 'string') throw invalid('ath is missing: a proof sent with an access token must carry its hash');
    if (payload.ath !== accessTokenHash(expect.access_token)) throw invalid('ath does not match the access token');
  }
  // §8, §9 (and §4.3 item 10): a nonce when the server requires one, and only one it issued
  const usesNonce = payload.nonce !== undefined;
  if (usesNonce || ctx.env.DPOP_NONCE_REQUIRED) {
    const fresh = currentNonce(ctx);
    if (!isCurrentNonce(ctx, payload.nonce)) {
      throw refuse('use_dpop_nonce', usesNonce ? 'the DPoP proof nonce is not current; use the one in the DPoP-Nonce header' : 'this server requires a nonce in DPoP proofs; use the one in the DPoP-Nonce header', {
        'dpop-nonce': fresh,
      });
    }
    reply.header('dpop-nonce', fresh);
  }
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  // §11.1: a proof is used once. Remembered past the last moment its iat would be accepted.
  const keepUntil = new Date((iat + PROOF_IAT_WINDOW_SECONDS + LEEWAY_SECONDS + 60) * 1000);
  if (!(await ctx.repos.dpopProofs.rememberJti(jkt, jti, keepUntil))) throw invalid('was used before (jti replay); make a new proof for every request');
  return { jkt };
}

/** §5: at the token endpoint (and /par, §10.1) a refused proof is a 400 JSON error; use_dpop_nonce carries the DPoP-Nonce header. */
export const tokenEndpointRefusal: DpopRefusal = (error, description, headers) => new OAuthError(error, description, { headers });

/**
 * The proof of a token request, or undefined when the request has no DPoP header: then nothing
 * is done at all (the client_credentials hot path pays one property read).
 */
export async function tokenRequestProof(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, htu: string): Promise<DpopProof | undefined> {
  if (request.headers.dpop === undefined) return undefined;
  return verifyDpopProof(ctx, request, reply, { htm: 'POST', htu }, tokenEndpointRefusal);
}
