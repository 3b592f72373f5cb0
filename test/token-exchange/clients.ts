// Clients for the token exchange tests (RFC 8693), beside the harness's defaultClients():
// - `frontend`: a web app whose access tokens name `gateway` in their audience; it may also
//   exchange its own tokens (its ID token, say) for the orders API
// - `gateway`: a resource server that exchanges the tokens it receives for the orders API or
//   for `billing`, and has tokens of its own (client_credentials) to act with
// - `billing`: a further hop, allowed one audience only
// - `nosy`: may exchange, but is named by no token
import { clientSchema, TOKEN_EXCHANGE_GRANT_TYPE, type ClientConfig } from '../../src/config/clients.js';
import { defaultClients, REDIRECT } from '../support/harness.js';

export const TOKEN_EXCHANGE = TOKEN_EXCHANGE_GRANT_TYPE;
export const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
export const JWT = 'urn:ietf:params:oauth:token-type:jwt';

export const ORDERS_API = 'https://orders.example.com';
export const LEDGER_API = 'https://ledger.example.com';

export const TX_SECRETS = {
  frontend: 'frontend-secret-0123456789-0123456789-0123',
  gateway: 'gateway-secret-0123456789-0123456789-01234',
  billing: 'billing-secret-0123456789-0123456789-01234',
  nosy: 'nosy-secret-0123456789-0123456789-012345678',
};

export function tokenExchangeClients(): ClientConfig[] {
  return [
    ...defaultClients(),
    clientSchema.parse({
      client_id: 'frontend',
      client_secret: TX_SECRETS.frontend,
      client_name: 'Front end',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE],
      scope: 'openid profile email offline_access orders:read orders:write',
      audience: ['gateway'],
      skip_consent: true,
      token_exchange: { allowed_audiences: [ORDERS_API] },
    }),
    clientSchema.parse({
      client_id: 'gateway',
      client_secret: TX_SECRETS.gateway,
      grant_types: [TOKEN_EXCHANGE, 'client_credentials'],
      scope: 'openid profile orders:read orders:write',
      token_exchange: { allowed_audiences: [ORDERS_API, 'billing'] },
    }),
    clientSchema.parse({
      client_id: 'billing',
      client_secret: TX_SECRETS.billing,
      grant_types: [TOKEN_EXCHANGE, 'client_credentials'],
      scope: 'orders:read',
      token_exchange: { allowed_audiences: [LEDGER_API] },
    }),
    clientSchema.parse({
      client_id: 'nosy',
      client_secret: TX_SECRETS.nosy,
      grant_types: [TOKEN_EXCHANGE],
      scope: 'openid profile orders:read orders:write',
      token_exchange: { allowed_audiences: [ORDERS_API] },
    }),
  ];
}
