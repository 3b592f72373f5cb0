// What an authorization request needs before it can be answered (OIDC Core §3.1.2.3-§3.1.2.4):
// a login, a consent, or nothing. prompt=none must never show a page (§3.1.2.1): it answers at
// once or fails with login_required / consent_required (§3.1.2.6).
import type { CurrentSession } from '../../authentication/login-session.js';
import { AuthorizationRedirectError, type OAuthErrorCode } from '../errors.js';
import { isSubset } from '../scopes.js';
import type { AuthorizationRequest } from './request.js';

export type NextStep = { step: 'login'; reason: string } | { step: 'consent' } | { step: 'respond' };

export interface StepInput {
  request: AuthorizationRequest;
  session: CurrentSession | undefined;
  /** scopes this user granted this client before */
  granted: Set<string>;
  /** when the request asked for a fresh login (a valid `_login` marker), if it did */
  loginRequestedAt: number | undefined;
  now?: number;
}

/** Why the current session cannot answer this request without a new login, if it cannot. */
export function loginReason({ request, session, loginRequestedAt, now = Date.now() }: StepInput): string | undefined {
  if (!session) return 'no session';
  // a login that happened after this request asked for one satisfies it
  if (loginRequestedAt !== undefined && session.auth_time.getTime() >= loginRequestedAt) return undefined;
  // OIDC Core §3.1.2.1: prompt=login (and select_account: one account per session) re-authenticates
  if (request.prompt.has('login') || request.prompt.has('select_account')) return 'prompt=login';
  // §3.1.2.1 max_age: re-authenticate when more than max_age seconds passed since auth_time;
  // max_age=0 is equivalent to prompt=login
  if (request.max_age !== undefined && (request.max_age === 0 || now - session.auth_time.getTime() > request.max_age * 1000)) return 'max_age';
  // §3.1.2.1 id_token_hint: the client expects another user than the one signed in
  if (request.id_token_hint && !request.id_token_hint.names(session.sub)) return 'id_token_hint';
  return undefined;
}

export function nextStep(input: StepInput): NextStep {
  const { request, granted } = input;
  const none = request.prompt.has('none');
  const fail = (error: OAuthErrorCode, description: string) =>
    new AuthorizationRedirectError(error, description, { redirect_uri: request.redirect_uri, response_mode: request.response_mode, state: request.state });

  const reason = loginReason(input);
  if (reason !== undefined) {
    // §3.1.2.6: prompt=none and the user must sign in first
    if (none) throw fail('login_required', reason === 'no session' ? 'the user is not signed in' : `the user must sign in again (${reason})`);
    return { step: 'login', reason };
  }
  // Consent is asked for when prompt=consent, or when the client asks for scopes the user has not
  // granted it before; first-party clients registered with skip_consent are trusted.
  const consent = request.prompt.has('consent') || (!request.client.skip_consent && !isSubset(request.scopes, granted));
  if (consent) {
    if (none) throw fail('consent_required', 'the user has not granted this client the requested scopes');
    return { step: 'consent' };
  }
  return { step: 'respond' };
}
