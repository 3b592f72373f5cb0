import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // process up
  app.get('/healthz', async () => ({ status: 'ok' }));
  // database reachable
  app.get('/readyz', async (request, reply) => {
    try {
      await sql`select 1`.execute(ctx.db);
      return { status: 'ready' };
    } catch (e) {
      request.log.warn({ err: e }, 'database not reachable');
      return reply.code(503).send({ status: 'unavailable', error_description: 'database not reachable' });
    }
  });
}
