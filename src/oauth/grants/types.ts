import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Client } from '../../repositories/clients.js';
import type { DpopProof } from '../dpop/proof.js';

/** The JSON body of a successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export interface TokenResponse {
  access_token: string;
  /** RFC 9449 §5.1: DPoP for a token bound to the proof's key */
  token_type: 'Bearer' | 'DPoP';
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
  /** RFC 9449 §5: the checked DPoP proof of this request, when it has one */
  dpop?: DpopProof | undefined;
}

/** One module per grant type, all of this shape (ARCHITECTURE.md "A grant is a module"). */
export interface GrantHandler {
  grant_type: string;
  handle(g: GrantContext): Promise<TokenResponse>;
}
