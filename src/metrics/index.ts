// Metrics for Prometheus (README "Metrics"): on when METRICS_PORT or METRICS_TOKEN is set, off
// (no hooks, /metrics 404) otherwise. Routes and grants count their events through
// `request.server.metrics?.…`, which is null when metrics are off.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { exposeMetrics } from './exposition.js';
import { Metrics } from './metrics.js';
import { countRequests } from './request-hooks.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics | null;
  }
}

/** Call from buildApp before any route is added, so that every route is counted. */
export async function metricsSupport(app: FastifyInstance, ctx: AppContext): Promise<void> {
  if (ctx.env.METRICS_PORT === undefined && ctx.env.METRICS_TOKEN === undefined) {
    app.decorate('metrics', null);
    return;
  }
  const metrics = new Metrics(ctx.db);
  app.decorate('metrics', metrics);
  countRequests(app, metrics);
  await exposeMetrics(app, metrics, ctx.env);
}
