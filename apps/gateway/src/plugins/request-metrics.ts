import type { FastifyInstance } from 'fastify';
import type { PlatformMetrics } from '@gpu-jobs/telemetry';

/**
 * Request latency by route template (never the raw URL, which holds ids), and one log line per request:
 * probes and metrics scrapes at debug, so they do not drown the rest.
 */
export function registerRequestMetrics(app: FastifyInstance, metrics: PlatformMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
    const quiet = route.startsWith('/health/') || route === '/metrics';
    request.log[quiet ? 'debug' : 'info'](
      { method: request.method, route, status: reply.statusCode, ms: Math.round(seconds * 10_000) / 10 },
      'request completed',
    );
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
