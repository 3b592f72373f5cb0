// DPoP at a protected resource (RFC 9449 §7): the `DPoP` authorization scheme, a proof that
// hashes the access token (ath) signed by the key the token is bound to (cnf.jkt), and the
// challenges of §7.1. A DPoP-bound token sent as a Bearer token is refused (§7.2).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { OAuthError, safeDescription, type OAuthErrorCode } from '../errors.js';
import { DPOP_SIGNING_ALGS, verifyDpopProof, type DpopRefusal } from './proof.js';

/** RFC 6750 §2.1 and RFC 9449 §7.1: how the access token was presented. */
export type AuthScheme = 'Bearer' | 'DPoP';

/** §7.1: the DPoP challenge names the proof algorithms this server accepts. */
const ALGS = `algs="${DPOP_SIGNING_ALGS.join(' ')}"`;

/**
 * The refusal of a protected-resource request: RFC 6750 §3 for Bearer, RFC 9449 §7.1 for DPoP,
 * with the error in the WWW-Authenticate challenge of the scheme the client used.
 */
export function resourceError(scheme: AuthScheme, error: OAuthErrorCode, description: string, opts: { extra?: string; status?: number; headers?: Record<string, string> } = {}): OAuthError {
  const params = `error="${error}", error_description="${safeDescription(description)}"${opts.extra ?? ''}`;
  const challenge = scheme === 'DPoP' ? `DPoP ${params}, ${ALGS}` : `Bearer ${params}`;
  return new OAuthError(error, description, { status: opts.status, headers: { ...opts.headers, 'www-authenticate': challenge } });
}

/** §7.1, §9: a bad proof, or a missing or stale nonce, is a 401 with a DPoP challenge. */
const resourceRefusal: DpopRefusal = (error, description, headers) => resourceError('DPoP', error, description, { status: 401, headers });

/**
 * Checks that the presenter holds the key the access token is bound to. Bearer: the token must
 * not be bound (§7.2). DPoP: the token must be bound, and the request must carry a proof by its
 * key over this method, URL and token (§4.3, §7.1).
 */
export async function checkTokenBinding(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  presented: { scheme: AuthScheme; token: string; htu: string },
  cnf: { jkt?: unknown } | undefined,
): Promise<void> {
  const bound = typeof cnf?.jkt === 'string' ? cnf.jkt : undefined;
  if (presented.scheme === 'Bearer') {
    if (!bound) return;
    // §7.2: both challenges (RFC 9110 §11.6.1), so the client learns that DPoP is what works
    const description = 'the access token is DPoP-bound: send it with the DPoP authorization scheme and a DPoP proof';
    throw new OAuthError('invalid_token', description, { headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${safeDescription(description)}", DPoP ${ALGS}` } });
  }
  if (!bound) throw resourceError('DPoP', 'invalid_token', 'the access token is not DPoP-bound; send it with the Bearer scheme');
  if (request.headers.dpop === undefined) throw resourceRefusal('invalid_dpop_proof', 'a DPoP proof is required with the DPoP authorization scheme', {});
  const proof = await verifyDpopProof(ctx, request, reply, { htm: request.method, htu: presented.htu, access_token: presented.token }, resourceRefusal);
  // §4.3 item 12: the proof's key is the one the token is bound to
  if (proof.jkt !== bound) throw resourceRefusal('invalid_dpop_proof', 'the DPoP proof is signed with a key other than the one the access token is bound to', {});
}
