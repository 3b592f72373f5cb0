// The steps of a playground run: who talks to whom, what was sent and answered (secrets
// masked), and a one-sentence explanation with the section of the standard that defines it.
import { z } from 'zod';

export const ACTORS = ['browser', 'app', 'as', 'api'] as const;
export const ACTOR_NAMES: Record<(typeof ACTORS)[number], string> = {
  browser: 'Browser',
  app: 'App (the playground)',
  as: 'Authorization server',
  api: 'API (resource server)',
};
const actor = z.enum(ACTORS);

/** What each kind of step is, in one sentence, with the standard that defines it. */
export const STEP_KINDS = {
  authorize: {
    title: 'Authorization request',
    sentence: 'The browser is sent to the authorization endpoint, where the user signs in and consents; PKCE binds the request to a secret only the app knows.',
    cite: 'RFC 6749 §4.1.1, RFC 7636 §4.3',
    href: 'https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1',
  },
  authorize_implicit: {
    title: 'Authentication request (implicit, form_post)',
    sentence: 'The browser is sent to the authorization endpoint asking for an ID token only, to be posted back in a form rather than put in the URL.',
    cite: 'OpenID Connect Core §3.2.2.1, OAuth 2.0 Form Post Response Mode §2',
    href: 'https://openid.net/specs/oauth-v2-form-post-response-mode-1_0.html#FormPostResponseMode',
  },
  callback: {
    title: 'Authorization response',
    sentence: 'The authorization server redirects the browser back to the registered redirect URI with a one-time code, the state the app sent, and its own issuer.',
    cite: 'RFC 6749 §4.1.2, RFC 9207 §2',
    href: 'https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2',
  },
  form_post: {
    title: 'Authorization response (form_post)',
    sentence: 'The authorization server answers with a page whose form posts the ID token and state to the redirect URI, so the token never appears in a URL or history.',
    cite: 'OAuth 2.0 Form Post Response Mode §2',
    href: 'https://openid.net/specs/oauth-v2-form-post-response-mode-1_0.html#FormPostResponseMode',
  },
  code_token: {
    title: 'Token request (authorization code)',
    sentence: 'The app exchanges the code for tokens at the token endpoint, proving it started the flow with the PKCE code_verifier.',
    cite: 'RFC 6749 §4.1.3, RFC 7636 §4.5',
    href: 'https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3',
  },
  client_credentials: {
    title: 'Token request (client credentials)',
    sentence: 'A backend service authenticates as itself and gets an access token for its own account; no user is involved.',
    cite: 'RFC 6749 §4.4.2',
    href: 'https://www.rfc-editor.org/rfc/rfc6749#section-4.4.2',
  },
  password: {
    title: 'Token request (password)',
    sentence: 'The app sends the user’s username and password to the token endpoint itself; the user’s password passes through the app, which is why RFC 9700 §2.4 says not to use this grant.',
    cite: 'RFC 6749 §4.3.2, RFC 9700 §2.4',
    href: 'https://www.rfc-editor.org/rfc/rfc9700#section-2.4',
  },
  device_authorization: {
    title: 'Device authorization request',
    sentence: 'The device asks for a device code and a short user code that the user enters on another screen.',
    cite: 'RFC 8628 §3.1, §3.2',
    href: 'https://www.rfc-editor.org/rfc/rfc8628#section-3.1',
  },
  device_token: {
    title: 'Token request (device code, polling)',
    sentence: 'The device polls the token endpoint: authorization_pending until the user approves, then the tokens.',
    cite: 'RFC 8628 §3.4, §3.5',
    href: 'https://www.rfc-editor.org/rfc/rfc8628#section-3.4',
  },
  jwks: {
    title: 'Signing keys (JWKS)',
    sentence: 'The app fetches the server’s public keys to check the signature of the tokens it received.',
    cite: 'RFC 7517 §5, OpenID Connect Core §10.1',
    href: 'https://www.rfc-editor.org/rfc/rfc7517#section-5',
  },
  refresh: {
    title: 'Token request (refresh)',
    sentence: 'The app trades its refresh token for new tokens; the old refresh token is rotated and must not be used again.',
    cite: 'RFC 6749 §6, RFC 9700 §4.14.2',
    href: 'https://www.rfc-editor.org/rfc/rfc6749#section-6',
  },
  revocation: {
    title: 'Token revocation',
    sentence: 'The app tells the server it no longer needs a token; revoking a refresh token ends its whole grant.',
    cite: 'RFC 7009 §2.1',
    href: 'https://www.rfc-editor.org/rfc/rfc7009#section-2.1',
  },
  introspection: {
    title: 'Token introspection',
    sentence: 'An API, authenticated as a client itself, asks the server whether an access token is still active and what it carries.',
    cite: 'RFC 7662 §2.1, §2.2',
    href: 'https://www.rfc-editor.org/rfc/rfc7662#section-2.1',
  },
  userinfo: {
    title: 'UserInfo request',
    sentence: 'The app calls a protected resource, the UserInfo endpoint, with the access token as a Bearer token and gets the user’s claims.',
    cite: 'OpenID Connect Core §5.3, RFC 6750 §2.1',
    href: 'https://openid.net/specs/openid-connect-core-1_0.html#UserInfo',
  },
  logout: {
    title: 'Logout request (RP-initiated)',
    sentence: 'The browser is sent to the end-session endpoint with the ID token as a hint, so the server ends the user’s session without asking.',
    cite: 'OpenID Connect RP-Initiated Logout §2',
    href: 'https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout',
  },
  logout_callback: {
    title: 'Back after logout',
    sentence: 'The server sends the browser to the registered post_logout_redirect_uri with the app’s state.',
    cite: 'OpenID Connect RP-Initiated Logout §3',
    href: 'https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RedirectionAfterLogout',
  },
} as const;
export type StepKind = keyof typeof STEP_KINDS;

const fields = z.record(z.string(), z.string());
export const stepSchema = z.object({
  kind: z.enum(Object.keys(STEP_KINDS) as [StepKind, ...StepKind[]]),
  from: actor,
  to: actor,
  request: z.object({ method: z.string(), url: z.string(), headers: fields, body: fields.optional() }),
  response: z.object({ status: z.number().int(), headers: fields, body: z.unknown().optional() }).optional(),
  /** what the app concluded, e.g. "state matches" or the reason it stopped */
  note: z.string().optional(),
});
export type Step = z.infer<typeof stepSchema>;

/** Shown as dots: passwords and client secrets are never shown, not even in part. */
const HIDDEN = new Set(['client_secret', 'password']);
/** Shown in part (RFC 6749 §10.3, §10.5: bearer values must not leak): codes and tokens. */
const PARTIAL = new Set(['code', 'code_verifier', 'access_token', 'refresh_token', 'id_token', 'device_code', 'token', 'id_token_hint', 'client_assertion']);

export function partly(value: string): string {
  return value.length <= 12 ? '…' : `${value.slice(0, 8)}…(${value.length} characters)`;
}

function maskValue(name: string, value: string): string {
  if (HIDDEN.has(name)) return '••••••••';
  if (PARTIAL.has(name)) return partly(value);
  return value;
}

export function maskFields(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, maskValue(k, v)]));
}

/** A URL with the values of its query parameters masked like form fields. */
export function maskUrl(url: string): string {
  const u = new URL(url);
  for (const [k, v] of [...u.searchParams]) u.searchParams.set(k, maskValue(k, v));
  return u.href;
}

/** The Authorization header keeps its scheme; the credentials are shown in part. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => {
      if (k.toLowerCase() !== 'authorization') return [k, v];
      const [scheme, credentials = ''] = v.split(' ');
      return [k, `${scheme} ${partly(credentials)}`];
    }),
  );
}

/** A JSON response body with its tokens and secrets masked, at any depth. */
export function maskBody(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(maskBody);
  if (body && typeof body === 'object')
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? maskValue(k, v) : maskBody(v)]));
  return body;
}
