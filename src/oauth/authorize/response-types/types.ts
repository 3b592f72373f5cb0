import type { CurrentSession } from '../../../authentication/login-session.js';
import type { AppContext } from '../../../context.js';
import type { User } from '../../../repositories/users.js';
import type { AuthorizationRequest, ResponseType } from '../request.js';

/** An authorization the person gave: the request, who they are and how they signed in. */
export interface Authorization {
  ctx: AppContext;
  request: AuthorizationRequest;
  session: CurrentSession;
  user: User;
}

/**
 * One module per response type (ARCHITECTURE.md: "the same goes for response types at
 * /authorize"): it returns the parameters of the authorization response; state and iss are
 * added by the caller.
 */
export interface ResponseTypeHandler {
  response_type: ResponseType;
  respond(a: Authorization): Promise<Record<string, string>>;
}

/** auth_time in the seconds ID tokens carry (OIDC Core §2). */
export function authTimeSeconds(session: CurrentSession): number {
  return Math.floor(session.auth_time.getTime() / 1000);
}
