// Device authorization endpoint (RFC 8628 §3.1, §3.2): POST /device_authorization.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { authenticateClient } from '../oauth/client-auth.js';
import { DEVICE_CODE_GRANT_TYPE, deviceRequestScope, startDeviceAuthorization } from '../oauth/device/device-authorization.js';
import { OAuthError } from '../oauth/errors.js';
import { singleParams } from '../oauth/params.js';
import { noStore, requireFormBody } from './http.js';

export const DEVICE_AUTHORIZATION_PATH = '/device_authorization';

export async function deviceAuthorizationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const endpoint = `${ctx.env.ISSUER}${DEVICE_AUTHORIZATION_PATH}`;
  // RFC 8628 §4: advertised in the authorization server metadata
  app.discovery.device_authorization_endpoint = DEVICE_AUTHORIZATION_PATH;

  app.post(DEVICE_AUTHORIZATION_PATH, async (request, reply) => {
    requireFormBody(request);
    // INTERFACE.md: the device authorization response carries secrets and is never cached
    noStore(reply);
    const params = singleParams(request.body);
    // §3.1: the client authenticates as at the token endpoint (RFC 6749 §3.2.1); public clients send client_id
    const { client } = await authenticateClient(ctx, request.headers.authorization, params, endpoint);
    // RFC 6749 §5.2: only clients registered for the device grant may start one
    if (!(client.grant_types as string[]).includes(DEVICE_CODE_GRANT_TYPE))
      throw new OAuthError('unauthorized_client', `client is not registered for grant_type ${DEVICE_CODE_GRANT_TYPE}`);
    const scope = deviceRequestScope(client, params.scope);
    return startDeviceAuthorization(ctx, client, scope);
  });
}
