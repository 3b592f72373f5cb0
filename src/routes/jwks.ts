import type { FastifyInstance } from 'fastify';
import { JWKS_MAX_AGE_SECONDS } from '../config/env.js';
import type { AppContext } from '../context.js';

export const JWKS_PATH = '/jwks';

export async function jwksRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(JWKS_PATH, async (_request, reply) => {
    // shorter than KEY_PUBLICATION_DELAY_SECONDS (checked at start): every cached copy has a new key before it signs
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return ctx.keystore.jwks();
  });
}
