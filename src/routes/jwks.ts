import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

export const JWKS_PATH = '/jwks';

export async function jwksRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(JWKS_PATH, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return ctx.keystore.jwks();
  });
}
