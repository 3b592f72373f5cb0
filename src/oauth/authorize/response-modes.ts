// Delivering an authorization response to the client (OAuth 2.0 Multiple Response Type Encoding
// Practices §2 for query and fragment; OAuth 2.0 Form Post Response Mode §2 for form_post).
// Every response carries `iss` (RFC 9207 §2).
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { noStore } from '../../routes/http.js';

export type ResponseMode = 'query' | 'fragment' | 'form_post';

export interface AuthorizationResponse {
  redirect_uri: string;
  response_mode: ResponseMode;
  params: Record<string, string | undefined>;
}

function defined(params: Record<string, string | undefined>): [string, string][] {
  return Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
}

export async function sendAuthorizationResponse(reply: FastifyReply, r: AuthorizationResponse): Promise<FastifyReply> {
  const entries = defined(r.params);
  noStore(reply);
  if (r.response_mode === 'form_post') {
    // the auto-submitting form is allowed to post to the client and to run its one inline script
    const nonce = randomBytes(16).toString('base64');
    const target = new URL(r.redirect_uri);
    // a custom-scheme URI (RFC 8252 §7.1) has no origin; its scheme is the CSP source
    const formAction = target.origin === 'null' ? target.protocol : target.origin;
    reply.header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    );
    return reply.view('form_post.eta', { action: r.redirect_uri, fields: entries, nonce });
  }
  const url = new URL(r.redirect_uri);
  if (r.response_mode === 'query') {
    for (const [k, v] of entries) url.searchParams.append(k, v);
    return reply.redirect(url.href, 303);
  }
  url.hash = new URLSearchParams(entries).toString();
  return reply.redirect(url.href, 303);
}
