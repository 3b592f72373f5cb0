// Matching the redirect_uri of an authorization request against the client's registration.
// RFC 6749 §3.1.2.3 and RFC 9700 §4.1.3: exact string comparison. RFC 8252 §7.3: for a
// loopback IP redirect URI the port is chosen by the native app at run time, so any port matches.
import type { Client } from '../../repositories/clients.js';

/** scheme http, loopback host, optional port, the rest of the URI (path, query) */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::\d{1,5})?([/?][^#]*)?$/;

function loopbackParts(uri: string): { host: string; rest: string } | undefined {
  const m = LOOPBACK.exec(uri);
  return m ? { host: m[1]!, rest: m[2] ?? '' } : undefined;
}

/** True when `requested` is one of the client's registered redirect URIs. */
export function isRegisteredRedirectUri(client: Client, requested: string): boolean {
  if (client.redirect_uris.includes(requested)) return true;
  // a port beyond 65535 or other nonsense the pattern below would let through
  if (!URL.canParse(requested)) return false;
  const asked = loopbackParts(requested);
  if (!asked) return false;
  // RFC 8252 §7.3: the same loopback URI with another port
  return client.redirect_uris.some((registered) => {
    const r = loopbackParts(registered);
    return r !== undefined && r.host === asked.host && r.rest === asked.rest;
  });
}

/** True when `uri` is registered as a post_logout_redirect_uri (RP-Initiated Logout 1.0 §3: exact match). */
export function isRegisteredPostLogoutRedirectUri(client: Client, uri: string): boolean {
  return client.post_logout_redirect_uris.includes(uri);
}
