// One error type for every refusal (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; OIDC Core §3.1.2.6).
// The Fastify error handler in app.ts turns it into JSON, a redirect or an HTML page.
import { translator, type Params, type TextKey } from '../i18n/catalogues.js';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'account_selection_required'
  | 'invalid_request_object'
  | 'invalid_request_uri'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'registration_not_supported'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'unsupported_token_type'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/** RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
export function safeDescription(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "'");
}

export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    opts: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(`${error}: ${description}`);
    this.status = opts.status ?? (error === 'invalid_client' || error === 'invalid_token' ? 401 : error === 'insufficient_scope' ? 403 : error === 'server_error' ? 500 : 400);
    this.headers = opts.headers ?? {};
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: safeDescription(this.description) };
  }
}

/**
 * An error to send back to the client's redirect_uri (RFC 6749 §4.1.2.1). Raised only after
 * client_id and redirect_uri were checked; before that, errors are shown to the user.
 */
export class AuthorizationRedirectError extends OAuthError {
  override name = 'AuthorizationRedirectError';
  constructor(
    error: OAuthErrorCode,
    description: string,
    readonly redirect: { redirect_uri: string; response_mode: 'query' | 'fragment' | 'form_post'; state?: string | undefined },
  ) {
    super(error, description);
  }
}

/**
 * An error shown to the person at the browser as an HTML page (never redirected): a title and a
 * detail from the message catalogues (src/i18n), shown in the page's language.
 */
export class PageError extends Error {
  override name = 'PageError';
  /** the detail in English, for a JSON error_description (a pushed request) and logs */
  readonly description: string;
  constructor(
    readonly title: TextKey,
    readonly detail: TextKey,
    readonly params: Params = {},
    readonly status = 400,
  ) {
    const { t } = translator('en');
    super(`${t(title, params)}: ${t(detail, params)}`);
    this.description = t(detail, params);
  }
}
