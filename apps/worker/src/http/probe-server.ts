import Fastify, { type FastifyInstance } from 'fastify';
import type { PlatformMetrics } from '@gpu-jobs/telemetry';
import type { GpuWorker } from '../worker';

/**
 * The worker's own small HTTP server: probes for Kubernetes, metrics, and drain. It never touches a
 * job, so it answers at once while an inference runs in its thread.
 */
const isLoopback = (address: string | undefined) =>
  !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));

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
  app.get('/admin/status', async () => ({ state: worker.state, inFlight: worker.inFlight }));
  // ?ifIdle=true: drain only a worker that holds no job (a scale-in must never stop one mid-job). Only from this
  // machine: the pod's preStop hook and the local pool call it on loopback; the probe port is reachable from the
  // cluster (probes, metrics), and nobody there may stop a worker.
  app.post<{ Querystring: { ifIdle?: string } }>('/admin/drain', async (req, reply) => {
    if (!isLoopback(req.socket.remoteAddress))
      return reply.code(403).send({ status: 'forbidden', detail: 'drain is accepted from loopback only' });
    if (req.query.ifIdle === 'true' && worker.inFlight > 0) return reply.code(409).send({ status: 'busy', inFlight: worker.inFlight });
    onDrain();
    return reply.code(202).send({ status: 'draining' });
  });
  return app;
}
