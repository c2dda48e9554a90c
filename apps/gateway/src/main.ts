// The gateway: the public API. Configuration comes from the environment (see gateway-config.ts).
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { announceListening, listenError, startOrExit, stopWithParent } from '@gpu-jobs/config';
import { TenantRegistry } from '@gpu-jobs/admission';
import { FairDispatcher, WebhookDispatcher, openPorts } from '@gpu-jobs/platform';
import { deriveTenantSecret } from '@gpu-jobs/webhooks';
import { loadModelRegistry } from '@gpu-jobs/runners';
import { PlatformMetrics, createLogger } from '@gpu-jobs/telemetry';
import { buildGateway } from './app';
import { TokenVerifier, loadOrCreateLocalKeys, loadOrCreateLocalSecret } from '@gpu-jobs/auth';
import { repairStranded, startBackgroundTasks } from './background-tasks';
import { loadGatewayConfig, type GatewayConfig } from './gateway-config';

const log = createLogger('gateway');

async function main(config: GatewayConfig): Promise<void> {
  const metrics = new PlatformMetrics('gateway');
  const models = loadModelRegistry(resolve(config.MODEL_REGISTRY), process.cwd(), { resolveWeights: false });
  const tenants = TenantRegistry.load(resolve(config.TENANTS_FILE));
  const stopWatching = tenants.watch((err) =>
    err
      ? log.error({ errorMessage: err.message }, 'tenants file not reloaded; keeping the last good version')
      : log.info('tenants file reloaded'),
  );
  const ports = await openPorts(config, models.lanes());
  const dataDir = resolve(config.DATA_DIR);
  const keys = config.AUTH_JWKS_URL ? { url: config.AUTH_JWKS_URL } : { jwks: (await loadOrCreateLocalKeys(dataDir)).jwks };
  const verifier = new TokenVerifier({
    issuer: config.AUTH_ISSUER,
    allowedIssuerTenants: (config.AUTH_ALLOWED_ISSUER_TENANTS ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
    audience: config.AUTH_AUDIENCE,
    tenantClaim: config.AUTH_TENANT_CLAIM,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_SECONDS,
    keys,
  });
  const dispatcher = new FairDispatcher(ports.store, ports.queue, {
    laneSettings: (lane) => models.lane(lane),
    weight: (tenantId) => tenants.get(tenantId)?.weight ?? 1,
    onError: (lane, err) => log.error({ lane, errorMessage: err.message }, 'dispatch failed'),
  });
  const masterKey = config.WEBHOOK_MASTER_KEY ?? loadOrCreateLocalSecret(dataDir, 'webhook-master.key');
  const webhookSecret = (tenantId: string) => {
    const tenant = tenants.get(tenantId);
    if (!tenant) return undefined;
    return tenant.webhookSecretEnv ? process.env[tenant.webhookSecretEnv] : deriveTenantSecret(masterKey, tenantId);
  };
  const webhookPolicy = { allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK };
  const webhooks = new WebhookDispatcher(ports.store, {
    secretFor: webhookSecret,
    policy: webhookPolicy,
    retry: {
      maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
      baseDelayMs: config.WEBHOOK_RETRY_BASE_MS,
      maxDelayMs: config.WEBHOOK_RETRY_MAX_SECONDS * 1000,
    },
    timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    batch: 16,
    onAttempt: (d, outcome, detail) => {
      metrics.webhookAttempts.inc({ outcome });
      log.info({ deliveryId: d.id, jobId: d.jobId, outcome, ...detail }, 'webhook attempt');
    },
  });
  const health = { started: false, ready: false };
  const app = await buildGateway({
    ports,
    models,
    metrics,
    verifier,
    health,
    tenants,
    dispatcher,
    webhookPolicy,
    webhookSecret,
    pressure: {
      maxEventLoopDelayMs: config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: config.PRESSURE_MAX_HEAP_USED_BYTES,
      maxRssBytes: config.PRESSURE_MAX_RSS_BYTES,
      retryAfterSeconds: 5,
    },
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    longPollMaxSeconds: config.LONG_POLL_MAX_SECONDS,
    waits: { perTenant: config.WAITS_MAX_PER_TENANT, total: config.WAITS_MAX_OPEN },
    idempotencyTtlMs: config.IDEMPOTENCY_TTL_SECONDS * 1000,
    resultLinkSeconds: config.RESULT_LINK_SECONDS,
    logger: log,
  });

  // Jobs stored but never queued (a crash between the two writes) are queued again, at start-up and then periodically.
  await repairStranded(ports, config.QUEUE_DUPLICATE_WINDOW_SECONDS * 1000, log);
  const stopBackground = startBackgroundTasks({
    ports,
    lanes: models.lanes(),
    dispatcher,
    webhooks,
    metrics,
    log,
    intervals: {
      dispatchMs: config.DISPATCH_INTERVAL_MS,
      webhookMs: config.WEBHOOK_POLL_MS,
      sweepMs: config.SWEEP_INTERVAL_SECONDS * 1000,
      repairMs: config.REPAIR_INTERVAL_SECONDS * 1000,
      metricsMs: 5_000,
    },
    sweep: { retentionMs: config.RETENTION_SECONDS * 1000 },
    duplicateWindowMs: config.QUEUE_DUPLICATE_WINDOW_SECONDS * 1000,
  });

  await app.listen({ port: config.PORT, host: config.HOST }).catch((err: NodeJS.ErrnoException) => {
    throw listenError(err, config.PORT);
  });
  health.started = true;
  health.ready = true;
  const { port } = app.server.address() as AddressInfo;
  const base = config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  log.info({ port, url: base, docs: `${base}/docs`, tenants: tenants.ids().length }, 'gateway listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // not ready first, so load balancers stop sending; then finish in-flight requests and close
    health.ready = false;
    log.info({ signal }, 'shutting down');
    stopWatching();
    await app.close();
    await stopBackground();
    await ports.close();
    process.exit(0);
  };
  announceListening('gateway', port);
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  stopWithParent((why) => void stop(why));
}

await startOrExit(log, 'gateway', loadGatewayConfig, main);
