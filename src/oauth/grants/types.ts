import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Client } from '../../repositories/clients.js';

/** The JSON body of a successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  /** RFC 8693 §2.2.1: the type of the token issued by a token exchange */
  issued_token_type?: string;
}

export interface GrantContext {
  ctx: AppContext;
  client: Client;
  params: Record<string, string>;
  /** every value of repeatable parameters (RFC 8707 `resource`) */
  resources: string[];
  request: FastifyRequest;
}

/** One module per grant type, all of this shape (ARCHITECTURE.md "A grant is a module"). */
export interface GrantHandler {
  grant_type: string;
  handle(g: GrantContext): Promise<TokenResponse>;
}
