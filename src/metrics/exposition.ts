// GET /metrics in the Prometheus text format, never open to anyone who can reach the server:
// on a listener of its own (METRICS_PORT on METRICS_HOST, default 127.0.0.1), and/or behind
// `Authorization: Bearer METRICS_TOKEN`. With METRICS_PORT the public listener has no /metrics.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Env } from '../config/env.js';
import { constantTimeEqual } from '../crypto/hash.js';
import { OAuthError } from '../oauth/errors.js';
import type { Metrics } from './metrics.js';

type MetricsEnv = Pick<Env, 'METRICS_PORT' | 'METRICS_HOST' | 'METRICS_TOKEN'>;

export async function exposeMetrics(app: FastifyInstance, metrics: Metrics, env: MetricsEnv): Promise<void> {
  const handler = scrapeHandler(metrics, env.METRICS_TOKEN);
  if (env.METRICS_PORT === undefined) {
    app.get('/metrics', { config: { api: true } }, handler);
    return;
  }
  const port = env.METRICS_PORT;
  const listener = Fastify({ loggerInstance: app.log, disableRequestLogging: true });
  listener.get('/metrics', handler);
  // opens with the app (a port in use stops the start) and closes with it
  app.addHook('onReady', async () => {
    const address = await listener.listen({ port, host: env.METRICS_HOST });
    app.log.info({ metrics: `${address}/metrics` }, 'metrics listener ready');
  });
  app.addHook('onClose', () => listener.close());
}

function scrapeHandler(metrics: Metrics, token: string | undefined) {
  return async function scrape(request: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store');
    const refusal = token === undefined ? undefined : bearerRefusal(request.headers.authorization, token);
    // answered here, not thrown: the metrics listener has no OAuth error handler
    if (refusal) return reply.code(refusal.status).headers(refusal.headers).send(refusal.toJSON());
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

/** RFC 6750 §3: 401 with a Bearer challenge when the token is missing or not METRICS_TOKEN. */
function bearerRefusal(authorization: string | undefined, token: string): OAuthError | undefined {
  const presented = /^Bearer ([^\s]+)$/i.exec(authorization ?? '')?.[1];
  if (presented === undefined)
    return new OAuthError('invalid_token', 'send Authorization: Bearer with the metrics token', { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
  // compared in constant time, so the answer's timing tells nothing about the token
  if (!constantTimeEqual(presented, token))
    return new OAuthError('invalid_token', 'the metrics token is not valid', { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics", error="invalid_token"' } });
  return undefined;
}
