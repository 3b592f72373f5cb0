// Token exchange grant (RFC 8693). A confidential client trades a token of ours (subject_token)
// for an access token to another audience, narrower than the one it presents: the scope is
// never widened and the expiry never extended. With an actor_token of its own the new token
// says who acts for the subject (delegation, §1.1, the act claim of §4.1); without one it is
// impersonation. Errors follow §2.2.2.
import { TOKEN_EXCHANGE_GRANT_TYPE } from '../../config/clients.js';
import type { Client } from '../../repositories/clients.js';
import { OAuthError } from '../errors.js';
import { formatScope, parseScope } from '../scopes.js';
import { verifyPresentedToken, type PresentedToken } from '../token-exchange/presented-token.js';
import { ACCESS_TOKEN_TYPE, ISSUED_TOKEN_TYPES, PRESENTED_TOKEN_TYPES } from '../token-exchange/token-types.js';
import { mintAccessToken, type ActClaim } from '../tokens.js';
import type { GrantHandler } from './types.js';

const SUPPORTED_TYPES = [...PRESENTED_TOKEN_TYPES].join(', ');

/**
 * §2.1: `audience` and `resource` (RFC 8707) name where the token will be used; the client's
 * registry policy (token_exchange.allowed_audiences) says which it may name. §2.2.2: any other
 * is invalid_target. None named: the policy's only audience, if it has one.
 */
function targetAudience(client: Client, requested: string[]): string | string[] {
  const allowed = client.token_exchange?.allowed_audiences ?? [];
  const refused = requested.find((r) => !allowed.includes(r));
  if (refused) throw new OAuthError('invalid_target', `this client may not exchange tokens for audience ${refused}`);
  if (requested.length) return requested.length === 1 ? requested[0]! : requested;
  if (allowed.length === 1) return allowed[0]!;
  throw new OAuthError('invalid_request', 'audience or resource is required: this client may exchange tokens for several audiences');
}

/**
 * §2.1 scope, never wider than the subject token's nor than the client's registered scope
 * (RFC 6749 §3.3). None requested: what both have in common.
 */
function narrowedScope(client: Client, subject: PresentedToken, requested: string[]): string[] {
  const registered = new Set(parseScope(client.scope));
  if (!requested.length) return subject.scope.filter((s) => registered.has(s));
  for (const s of requested) {
    if (!subject.scope.includes(s)) throw new OAuthError('invalid_scope', `scope ${s} is not in the subject_token's scope (an exchange never widens it)`);
    if (!registered.has(s)) throw new OAuthError('invalid_scope', `scope ${s} is not registered for this client`);
  }
  return requested;
}

export const tokenExchange: GrantHandler = {
  grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
  async handle({ ctx, client, params, resources, request }) {
    const { subject_token, subject_token_type, actor_token, actor_token_type } = params;
    const requestedType = params.requested_token_type ?? ACCESS_TOKEN_TYPE;
    // §2.1: subject_token and subject_token_type are REQUIRED
    if (!subject_token) throw new OAuthError('invalid_request', 'subject_token is missing');
    if (!subject_token_type) throw new OAuthError('invalid_request', 'subject_token_type is missing');
    if (!PRESENTED_TOKEN_TYPES.has(subject_token_type)) throw new OAuthError('invalid_request', `subject_token_type ${subject_token_type} is not supported (supported: ${SUPPORTED_TYPES})`);
    // §2.1: actor_token_type is REQUIRED with actor_token and MUST NOT be sent without it
    if (actor_token && !actor_token_type) throw new OAuthError('invalid_request', 'actor_token_type is missing');
    if (actor_token_type && !actor_token) throw new OAuthError('invalid_request', 'actor_token_type is given without actor_token');
    if (actor_token_type && !PRESENTED_TOKEN_TYPES.has(actor_token_type)) throw new OAuthError('invalid_request', `actor_token_type ${actor_token_type} is not supported (supported: ${SUPPORTED_TYPES})`);
    // §2.2.2: a request for a token type we do not issue is invalid_request
    if (!ISSUED_TOKEN_TYPES.has(requestedType))
      throw new OAuthError('invalid_request', `requested_token_type ${requestedType} is not issued here; an exchange issues an access token (${ACCESS_TOKEN_TYPE})`);
    const aud = targetAudience(client, resources);

    const subject = await verifyPresentedToken(ctx, subject_token, subject_token_type, 'subject_token');
    // Policy (§2.2.2 "unacceptable based on policy"): a client exchanges only tokens issued to it
    // or naming it in their audience (a resource server passing on a token it received)
    if (subject.client_id !== client.client_id && !subject.aud.includes(client.client_id))
      throw new OAuthError('invalid_request', 'subject_token was not issued to this client and does not name it in its audience');
    const actor = actor_token ? await verifyPresentedToken(ctx, actor_token, actor_token_type!, 'actor_token') : undefined;
    // Policy: the actor is the requesting client, so its actor_token must have been issued to it
    if (actor && actor.client_id !== client.client_id) throw new OAuthError('invalid_request', 'actor_token was not issued to this client');

    const scope = formatScope(narrowedScope(client, subject, parseScope(params.scope)));
    // §4.1: the actor is the current one and the subject token's actors are nested in it as prior
    // actors; without an actor (impersonation) the subject token's chain is kept as it is
    const act: ActClaim | undefined = actor ? { sub: actor.sub, ...(subject.act ? { act: subject.act } : {}) } : subject.act;
    const at = await mintAccessToken(ctx, {
      client,
      sub: subject.sub,
      scope,
      aud,
      // ending the subject token's grant ends this token too
      grant_id: subject.grant_id,
      auth_time: subject.auth_time,
      act,
      not_after: Math.min(subject.exp, actor?.exp ?? Infinity),
    });
    // who obtained a token for whom, acting as whom: impersonation and delegation leave a trace
    await ctx.repos.audit.record({
      event: 'token_exchanged',
      client_id: client.client_id,
      sub: subject.sub,
      ip: request.ip,
      detail: { jti: at.jti, aud, scope, subject_client_id: subject.client_id, subject_token_type: subject.type, ...(act ? { act } : {}) },
    });
    // §2.2.1; no refresh token: the client exchanges the subject token again instead
    return { access_token: at.access_token, issued_token_type: requestedType, token_type: 'Bearer', expires_in: at.expires_in, ...(scope ? { scope } : {}) };
  },
};
