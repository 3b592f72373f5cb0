// Which registered client plays the app in each flow. Read from the registry file (CLIENTS_FILE)
// because the playground, like any app, needs the client secrets, which the database keeps only
// hashed. A client is chosen by what it can do, not by its name, so any registry works.
import { loadRegistry, type ClientConfig } from '../config/clients.js';
import type { Env } from '../config/env.js';
import type { Flow } from './run-record.js';

export const CALLBACK_PATH = '/playground/callback';
export const LOGOUT_CALLBACK = `${CALLBACK_PATH}/logout`;

export type DemoClients = Partial<Record<Flow, ClientConfig>> & { resourceServer?: ClientConfig };

const has = (c: ClientConfig, grant: ClientConfig['grant_types'][number]) => c.grant_types.includes(grant);

export function loadDemoClients(env: Env): DemoClients {
  const clients = loadRegistry(env.CLIENTS_FILE, { production: env.production, env: { ...process.env, ISSUER: env.ISSUER } });
  const callback = (flow: Flow) => `${env.ISSUER}${CALLBACK_PATH}/${flow}`;
  const find = (test: (c: ClientConfig) => boolean) => clients.find(test);
  return {
    web: find((c) => has(c, 'authorization_code') && c.token_endpoint_auth_method !== 'none' && c.client_secret !== undefined && c.redirect_uris.includes(callback('web'))),
    spa: find((c) => has(c, 'authorization_code') && c.token_endpoint_auth_method === 'none' && c.redirect_uris.includes(callback('spa'))),
    implicit: find((c) => has(c, 'implicit') && c.response_types.includes('id_token') && c.redirect_uris.includes(callback('implicit'))),
    'client-credentials': find((c) => has(c, 'client_credentials') && c.client_secret !== undefined),
    device: find((c) => has(c, 'urn:ietf:params:oauth:grant-type:device_code')),
    password: find((c) => has(c, 'password') && (c.client_secret !== undefined || c.token_endpoint_auth_method === 'none')),
    // RFC 7662 §2.1: the API that introspects authenticates as a client of its own
    resourceServer: find((c) => c.client_secret !== undefined && (c.token_endpoint_auth_method === 'client_secret_basic' || c.token_endpoint_auth_method === 'client_secret_post')),
  };
}

/** RFC 6749 §2.3.1: the client's credentials the way it registered to send them. */
export function clientAuthentication(client: ClientConfig): { headers: Record<string, string>; body: Record<string, string> } {
  if (client.token_endpoint_auth_method === 'client_secret_basic' && client.client_secret)
    return {
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}` },
      body: {},
    };
  if (client.token_endpoint_auth_method === 'client_secret_post' && client.client_secret)
    return { headers: {}, body: { client_id: client.client_id, client_secret: client.client_secret } };
  return { headers: {}, body: { client_id: client.client_id } };
}
