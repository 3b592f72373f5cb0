// Tokens decoded for the page: header, claims with what each one means, and the signature
// checked against the server's JWKS with jose (RFC 7515 §5.2, OpenID Connect Core §3.1.3.7).
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';

/** What each claim means, in the words of the standard that defines it. */
const CLAIMS: Record<string, string> = {
  iss: 'issuer: who made the token (this server)',
  sub: 'subject: the user (or the client, for client credentials), a stable identifier',
  aud: 'audience: who the token is for',
  exp: 'expiry: not valid after this time',
  iat: 'issued at',
  nbf: 'not valid before this time',
  auth_time: 'when the user signed in',
  nonce: 'the value the app sent in the request; it stops a token from being replayed into another sign-in',
  azp: 'authorized party: the client the ID token was issued to',
  at_hash: 'hash of the access token issued with this ID token',
  c_hash: 'hash of the authorization code issued with this ID token',
  sid: 'session identifier at the server',
  jti: 'token identifier, unique per token',
  client_id: 'the client the access token was issued to',
  scope: 'what the access token allows',
  acr: 'authentication context class',
  amr: 'authentication methods used',
  name: 'full name',
  given_name: 'given name',
  family_name: 'family name',
  email: 'email address',
  email_verified: 'whether the email address was verified',
  phone_number: 'phone number',
  address: 'postal address',
};
const HEADER: Record<string, string> = {
  alg: 'signature algorithm',
  kid: 'which key of the JWKS signed it',
  typ: 'token type (at+jwt: an RFC 9068 access token)',
};
const TIMES = new Set(['exp', 'iat', 'nbf', 'auth_time']);

export interface DecodedToken {
  name: string;
  header: { name: string; value: string; meaning: string }[];
  claims: { name: string; value: string; meaning: string }[];
  signature: { valid: boolean; detail: string };
}

const show = (name: string, v: unknown) => (TIMES.has(name) && typeof v === 'number' ? `${v} (${new Date(v * 1000).toISOString()})` : typeof v === 'string' ? v : JSON.stringify(v));

export async function decodeToken(name: string, token: string, jwks: JSONWebKeySet | undefined, issuer: string): Promise<DecodedToken | undefined> {
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    return undefined; // not a JWT (an opaque refresh token)
  }
  let signature: DecodedToken['signature'];
  if (!jwks) signature = { valid: false, detail: 'the JWKS could not be fetched' };
  else
    try {
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer });
      signature = { valid: true, detail: `valid: signed with ${protectedHeader.alg} by key ${protectedHeader.kid ?? '(no kid)'} of the JWKS; issuer and expiry checked` };
    } catch (e) {
      signature = { valid: false, detail: `not valid: ${(e as Error).message}` };
    }
  return {
    name,
    header: Object.entries(header).map(([k, v]) => ({ name: k, value: show(k, v), meaning: HEADER[k] ?? '' })),
    claims: Object.entries(claims).map(([k, v]) => ({ name: k, value: show(k, v), meaning: CLAIMS[k] ?? '' })),
    signature,
  };
}
