// The gateway: the public API. Configuration comes from the environment (see gateway-config.ts).
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { startOrExit } from '@gpu-jobs/config';
import { openPorts, redispatchStranded } from '@gpu-jobs/platform';
import { loadModelRegistry } from '@gpu-jobs/runners';
import { PlatformMetrics, createLogger } from '@gpu-jobs/telemetry';
import { buildGateway } from './app';
import { TokenVerifier, loadOrCreateLocalKeys } from '@gpu-jobs/auth';
import { loadGatewayConfig, type GatewayConfig } from './gateway-config';

const log = createLogger('gateway');

async function main(config: GatewayConfig): Promise<void> {
  const metrics = new PlatformMetrics('gateway');
  const models = loadModelRegistry(resolve(config.MODEL_REGISTRY), process.cwd());
  const ports = await openPorts(config, models.lanes());
  const keys = config.AUTH_JWKS_URL
    ? { url: config.AUTH_JWKS_URL }
    : { jwks: (await loadOrCreateLocalKeys(resolve(config.DATA_DIR))).jwks };
  const verifier = new TokenVerifier({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    tenantClaim: config.AUTH_TENANT_CLAIM,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_SECONDS,
    keys,
  });
  const health = { started: false, ready: false };
  const app = await buildGateway({
    ports,
    models,
    metrics,
    verifier,
    health,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    longPollMaxSeconds: config.LONG_POLL_MAX_SECONDS,
    idempotencyTtlMs: config.IDEMPOTENCY_TTL_SECONDS * 1000,
    logger: log,
  });

  // Jobs stored but never queued (a crash between the two writes) are queued again, at start-up and then periodically.
  const repair = async () => {
    const redone = await redispatchStranded(ports.store, ports.queue, {
      olderThanMs: 10_000,
      duplicateWindowMs: config.QUEUE_DUPLICATE_WINDOW_SECONDS * 1000,
    });
    if (redone.length > 0) log.warn({ jobIds: redone.map((j) => j.id) }, 're-sent the messages of stranded jobs');
  };
  await repair();
  const repairTimer = setInterval(
    () => void repair().catch((err: Error) => log.error({ errorMessage: err.message }, 'repair pass failed')),
    config.REPAIR_INTERVAL_SECONDS * 1000,
  );
  repairTimer.unref();
  const queueTimer = setInterval(async () => {
    for (const lane of models.lanes())
      metrics.recordQueue(lane, await ports.queue.counts(lane).catch(() => ({ active: 0, locked: 0, scheduled: 0, deadLettered: 0 })));
  }, 5_000);
  queueTimer.unref();

  await app.listen({ port: config.PORT, host: config.HOST });
  health.started = true;
  health.ready = true;
  const { port } = app.server.address() as AddressInfo;
  const base = config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  log.info({ port, url: base, docs: `${base}/docs` }, 'gateway listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // not ready first, so load balancers stop sending; then finish in-flight requests and close
    health.ready = false;
    log.info({ signal }, 'shutting down');
    clearInterval(repairTimer);
    clearInterval(queueTimer);
    await app.close();
    await ports.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

await startOrExit(log, 'gateway', loadGatewayConfig, main);
