// Extra clients for conformance tests, beside the harness's defaultClients().
import { clientSchema, type ClientConfig } from '../../../src/config/clients.js';
import { defaultClients, REDIRECT } from '../../support/harness.js';

export const EXTRA_SECRETS = {
  codeOnly: 'code-only-secret-0123456789-0123456789-01',
  noPkce: 'no-pkce-secret-0123456789-0123456789-0123',
  shortLived: 'short-lived-secret-0123456789-0123456789',
};

/**
 * - `code-only`: confidential, authorization_code without refresh_token, same redirect URI as `web`
 * - `no-pkce`: confidential with require_pkce false (codes without a challenge exist)
 * - `short-lived`: like `web`, but access and refresh tokens live 1 second
 */
export function conformanceClients(): ClientConfig[] {
  return [
    ...defaultClients(),
    clientSchema.parse({
      client_id: 'code-only',
      client_secret: EXTRA_SECRETS.codeOnly,
      client_name: 'Code-only app',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      scope: 'openid profile email',
      skip_consent: true,
    }),
    clientSchema.parse({
      client_id: 'no-pkce',
      client_secret: EXTRA_SECRETS.noPkce,
      client_name: 'App without PKCE',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
      require_pkce: false,
      skip_consent: true,
    }),
    clientSchema.parse({
      client_id: 'short-lived',
      client_secret: EXTRA_SECRETS.shortLived,
      client_name: 'Short-lived tokens app',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
      skip_consent: true,
      access_token_ttl: 1,
      refresh_token_ttl: 1,
    }),
  ];
}
