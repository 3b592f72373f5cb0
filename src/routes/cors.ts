// CORS for browser-based apps (single-page apps are public clients that call /token and
// /userinfo from JavaScript; OAuth 2.0 for Browser-Based Apps §6.1). Metadata and keys are
// public to every origin. Back-channel endpoints answer only origins that are the origin of a
// registered redirect URI. Pages (/authorize, /login, /device, ...) never get CORS headers:
// they are navigated to, not fetched.
import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

const PUBLIC = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks']);
const FOR_CLIENTS = new Set(['/token', '/userinfo', '/revoke', '/device_authorization']);

export async function corsSupport(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(fastifyCors, {
    delegator: (request, callback) => {
      const path = request.url.split('?')[0] ?? '';
      const origin = request.headers.origin;
      if (PUBLIC.has(path)) return callback(null, { origin: '*', methods: ['GET'] });
      if (!origin || !FOR_CLIENTS.has(path)) return callback(null, { origin: false });
      ctx.clients.isClientOrigin(origin).then(
        (allowed) =>
          callback(null, {
            origin: allowed ? origin : false,
            methods: ['GET', 'POST'],
            allowedHeaders: ['Authorization', 'Content-Type'],
            maxAge: 600,
          }),
        (e: unknown) => callback(e as Error, { origin: false }),
      );
    },
  });
}
