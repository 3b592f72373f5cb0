// Token type identifiers (RFC 8693 §3) that the token exchange grant understands.

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
/** §3: any JWT; a presented one is an access token or an ID token of ours, told apart by its typ header */
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** Types accepted as subject_token_type and actor_token_type. */
export const PRESENTED_TOKEN_TYPES: ReadonlySet<string> = new Set([ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, JWT_TOKEN_TYPE]);

/**
 * Types accepted as requested_token_type: both name what is issued, an RFC 9068 JWT access
 * token. No refresh token and no ID token is issued by an exchange.
 */
export const ISSUED_TOKEN_TYPES: ReadonlySet<string> = new Set([ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE]);
