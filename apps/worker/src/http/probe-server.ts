import Fastify, { type FastifyInstance } from 'fastify';
import type { PlatformMetrics } from '@gpu-jobs/telemetry';
import type { GpuWorker } from '../worker';

/**
 * The worker's own small HTTP server: probes for Kubernetes, metrics, and drain. It never touches a
 * job, so it answers at once while an inference runs in its thread.
 */
export function buildProbeServer(worker: GpuWorker, metrics: PlatformMetrics, onDrain: () => void): FastifyInstance {
  const app = Fastify({ logger: false });
  const status = (ok: boolean) => (ok ? 200 : 503);
  app.get('/health/live', async () => ({ status: 'live', state: worker.state }));
  app.get('/health/startup', async (_req, reply) => {
    const ok = worker.state !== 'starting';
    return reply.code(status(ok)).send({ status: ok ? 'started' : 'starting', loadSeconds: worker.loadSeconds });
  });
  app.get('/health/ready', async (_req, reply) => {
    const ok = worker.state === 'ready';
    return reply.code(status(ok)).send({ status: ok ? 'ready' : 'not ready', state: worker.state });
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.post('/admin/drain', async (_req, reply) => {
    onDrain();
    return reply.code(202).send({ status: 'draining' });
  });
  return app;
}
