// id_token_hint (OIDC Core §3.1.2.1; RP-Initiated Logout 1.0 §2): an ID token we issued earlier,
// naming the user the client believes is signed in. Signature and issuer are checked; an
// expired token is still a good hint (both specs allow it), so expiry alone is not a failure.
import { errors, type JWTPayload } from 'jose';
import type { AppContext } from '../../context.js';
import { subjectFor } from '../subject.js';

export interface IdTokenHint {
  sub: string;
  /** the clients the token was issued to */
  aud: string[];
  /**
   * Whether the hint names the user whose own sub is `localSub`: its sub is what its client sees
   * for that user, pairwise or public (OIDC Core §8).
   */
  names(localSub: string): boolean;
}

/** The hint's claims, or undefined when it is not an ID token signed by this issuer. */
export async function verifyIdTokenHint(ctx: AppContext, token: string): Promise<IdTokenHint | undefined> {
  let payload: JWTPayload;
  try {
    // typ JWT: our ID tokens; an access token (typ at+jwt) is not a hint
    ({ payload } = await ctx.keystore.verify(token, { issuer: ctx.env.ISSUER, typ: 'JWT', requiredClaims: ['sub', 'aud'] }));
  } catch (e) {
    // jose checks the signature, typ, issuer and required claims before expiry, so an expired
    // token reaching here is otherwise valid
    if (!(e instanceof errors.JWTExpired)) return undefined;
    payload = e.payload;
  }
  if (typeof payload.sub !== 'string') return undefined;
  const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  const sub = payload.sub;
  // our ID tokens have one audience; a pairwise sub is recognised by computing it again
  const client = aud.length === 1 ? await ctx.clients.get(aud[0]!) : undefined;
  return { sub, aud, names: (localSub) => (client ? subjectFor(ctx, client, localSub) : localSub) === sub };
}
