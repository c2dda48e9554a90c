// The GPU worker: serves one lane. Configuration comes from the environment (see worker-config.ts).
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { announceListening, startOrExit, stopWithParent } from '@gpu-jobs/config';
import { TenantRegistry } from '@gpu-jobs/admission';
import { FairDispatcher, openPorts } from '@gpu-jobs/platform';
import { loadModelRegistry } from '@gpu-jobs/runners';
import { PlatformMetrics, createLogger } from '@gpu-jobs/telemetry';
import { buildProbeServer } from './http/probe-server';
import { GpuWorker } from './worker';
import { loadWorkerConfig, type WorkerConfig } from './worker-config';

const log = createLogger('worker');

async function main(config: WorkerConfig): Promise<void> {
  const metrics = new PlatformMetrics('worker');
  const models = loadModelRegistry(resolve(config.MODEL_REGISTRY), process.cwd());
  const tenants = TenantRegistry.load(resolve(config.TENANTS_FILE));
  const stopWatching = tenants.watch((err) => err && log.error({ errorMessage: err.message }, 'tenants file not reloaded'));
  const ports = await openPorts(config, [config.WORKER_LANE]);
  const dispatcher = new FairDispatcher(ports.store, ports.queue, {
    laneSettings: (lane) => models.lane(lane),
    weight: (tenantId) => tenants.get(tenantId)?.weight ?? 1,
    onError: (lane, err) => log.error({ lane, errorMessage: err.message }, 'dispatch failed'),
  });
  const worker = new GpuWorker(config, ports, models, log.child({ workerId: config.WORKER_ID }), metrics, dispatcher);

  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.info({ why }, 'stopping');
      await worker.drain();
      stopWatching();
      await server.close();
      await ports.close();
      log.info('stopped');
      process.exit(0);
    })();
  };
  const server = buildProbeServer(worker, metrics, () => stop('POST /admin/drain'));
  await server.listen({ port: config.PORT, host: config.HOST });
  const { port } = server.server.address() as AddressInfo;
  log.info({ port, lane: config.WORKER_LANE }, 'probe server listening; loading models');
  announceListening('worker', port);
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  stopWithParent(stop);

  const started = performance.now();
  await worker.start();
  log.info({ startToReadySeconds: (performance.now() - started) / 1000 }, 'accepting work');
}

await startOrExit(log, 'worker', loadWorkerConfig, main);
