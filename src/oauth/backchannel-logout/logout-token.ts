// The logout token (OpenID Connect Back-Channel Logout 1.0 §2.4): a JWT signed like the client's
// ID tokens, explicitly typed logout+jwt (§2.4, RFC 8725 §3.11), with iss, aud, iat, exp, jti,
// the back-channel logout event, and sub (the client's subject) and sid; never a nonce (§2.4).
import type { AppContext } from '../../context.js';
import { randomToken } from '../../crypto/random.js';
import type { Client } from '../../repositories/clients.js';
import { subjectFor } from '../subject.js';

export const LOGOUT_TOKEN_TYP = 'logout+jwt';
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** §2.4 recommends a short lifetime; a token is signed afresh for each attempt. */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

export async function signLogoutToken(ctx: AppContext, client: Client, session: { sub: string; sid: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return ctx.keystore.sign(
    {
      iss: ctx.env.ISSUER,
      aud: client.client_id,
      iat: now,
      exp: now + LOGOUT_TOKEN_TTL_SECONDS,
      jti: randomToken(16),
      sub: subjectFor(ctx, client, session.sub),
      sid: session.sid,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    },
    { alg: client.id_token_signed_response_alg, typ: LOGOUT_TOKEN_TYP },
  );
}
