// Carrying an authorization request through the login and consent pages without keeping it in
// a process: its parameters travel in the login page's return_to URL and in the consent form's
// hidden fields, and HMACs under SECRET_KEY say what the server itself added:
//
// - `_login`: "this request asked for a fresh login (prompt=login, an exceeded max_age, another
//   user's id_token_hint) at time T". When the browser comes back with a session that started at
//   or after T, that login satisfies the request, so it is not asked for again (no loop).
// - `_consent`: binds the consent form to the exact request and to the session that saw it, so a
//   form rendered for one user cannot grant for another who signed in since.
// - `_resolved`: "these parameters are what a pushed request (RFC 9126) or a signed request
//   object (RFC 9101) said, as resolved at time T". The request_uri is spent when /authorize
//   resolves it, so the parameters travel on from there like those of any request; this marker
//   lets them count as pushed or signed on the way back from the login and consent pages.
//
// All are made under SECRET_KEY and checked under SECRET_KEY and SECRET_KEY_PREVIOUS, so a page
// a person has open when the key is rotated still works.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const LOGIN_MARKER = '_login';
export const CONSENT_MAC = '_consent';
/** fields of our own forms that are not part of the authorization request */
const OWN_FIELDS = new Set([LOGIN_MARKER, CONSENT_MAC, '_csrf', 'decision']);

/** How long a person may take on the login page before the request must start over. */
export const LOGIN_MARKER_TTL_MS = 30 * 60_000;

/** The authorization request's own parameters, without the fields our pages add. */
export function requestParams(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => !OWN_FIELDS.has(k)));
}

function canonical(params: Record<string, string>): string {
  return JSON.stringify(Object.entries(requestParams(params)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function mac(secret: string, purpose: string, ...parts: string[]): string {
  const h = createHmac('sha256', secret).update(purpose);
  for (const p of parts) h.update('\0').update(p);
  return h.digest('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function loginMarker(secret: string, params: Record<string, string>, at = Date.now()): string {
  return `${at}.${mac(secret, 'login', String(at), canonical(params))}`;
}

/**
 * The time a fresh login was asked for, when `params` carry a valid, recent `_login` marker for
 * exactly these parameters; otherwise undefined.
 */
export function loginRequestedAt(secrets: string | readonly string[], params: Record<string, string>, now = Date.now()): number | undefined {
  const marker = params[LOGIN_MARKER];
  const m = marker ? /^(\d{1,15})\.([\w-]{43})$/.exec(marker) : null;
  if (!m) return undefined;
  const at = Number(m[1]);
  if (at > now || now - at > LOGIN_MARKER_TTL_MS) return undefined;
  return [secrets].flat().some((secret) => equal(m[2]!, mac(secret, 'login', String(at), canonical(params)))) ? at : undefined;
}

export const RESOLVED_MARKER = '_resolved';
/** Where resolved parameters came from: a pushed request, a signed request object, or both. */
export interface RequestOrigin {
  pushed: boolean;
  signed: boolean;
}
const ORIGINS = ['plain', 'pushed', 'signed', 'pushed-signed'] as const;

function withoutResolvedMarker(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => k !== RESOLVED_MARKER));
}

export function resolvedMarker(secret: string, params: Record<string, string>, origin: RequestOrigin, at = Date.now()): string {
  const from = ORIGINS[Number(origin.pushed) + 2 * Number(origin.signed)]!;
  return `${at}.${from}.${mac(secret, 'resolved', String(at), from, canonical(withoutResolvedMarker(params)))}`;
}

/**
 * The origin recorded by a valid, recent `_resolved` marker for exactly these parameters;
 * undefined when there is none, and 'invalid' when one is there but does not hold (edited
 * parameters or too old).
 */
export function resolvedOrigin(secrets: string | readonly string[], params: Record<string, string>, now = Date.now()): RequestOrigin | 'invalid' | undefined {
  const marker = params[RESOLVED_MARKER];
  if (marker === undefined) return undefined;
  const m = /^(\d{1,15})\.([a-z-]{1,20})\.([\w-]{43})$/.exec(marker);
  if (!m) return 'invalid';
  const at = Number(m[1]);
  const i = (ORIGINS as readonly string[]).indexOf(m[2]!);
  if (i < 0 || at > now || now - at > LOGIN_MARKER_TTL_MS) return 'invalid';
  const expected = canonical(withoutResolvedMarker(params));
  if (![secrets].flat().some((secret) => equal(m[3]!, mac(secret, 'resolved', String(at), m[2]!, expected)))) return 'invalid';
  return { pushed: (i & 1) === 1, signed: (i & 2) === 2 };
}

export function consentMac(secret: string, params: Record<string, string>, sessionIdHash: string): string {
  return mac(secret, 'consent', sessionIdHash, canonical(params));
}

export function isValidConsentMac(secrets: string | readonly string[], params: Record<string, string>, sessionIdHash: string): boolean {
  const given = params[CONSENT_MAC];
  return given !== undefined && [secrets].flat().some((secret) => equal(given, consentMac(secret, params, sessionIdHash)));
}
