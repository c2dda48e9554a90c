import type { FairDispatcher, Ports, WebhookDispatcher } from '@gpu-jobs/platform';
import { redispatchStranded, sweep } from '@gpu-jobs/platform';
import type { Logger, PlatformMetrics } from '@gpu-jobs/telemetry';

export interface BackgroundDeps {
  ports: Ports;
  lanes: readonly string[];
  dispatcher: FairDispatcher;
  webhooks: WebhookDispatcher;
  metrics: PlatformMetrics;
  log: Logger;
  intervals: { dispatchMs: number; webhookMs: number; sweepMs: number; repairMs: number; metricsMs: number };
  sweep: { retentionMs: number };
  duplicateWindowMs: number;
}

/** Runs `task` every `ms` after the previous run ended (never two at once); errors are logged, not thrown. */
function every(ms: number, name: string, log: Logger, task: () => Promise<void>): { stop: () => Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = task()
      .catch((err: Error) => log.error({ task: name, errorName: err.name, errorMessage: err.message }, 'background task failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, ms).unref();
      });
  };
  timer = setTimeout(tick, ms).unref();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * The gateway's housekeeping loops. Every one is safe with several gateways running (conditional writes,
 * leases), so each replica runs them all: the fair dispatcher's pump, webhook deliveries, the sweeper
 * (expiry, retention, idempotency keys), the repair pass for jobs stored but never sent, and lane metrics.
 */
export function startBackgroundTasks(deps: BackgroundDeps): () => Promise<void> {
  const { ports, lanes, log, metrics, intervals } = deps;
  const loops = [
    every(intervals.dispatchMs, 'dispatch', log, async () => {
      for (const lane of lanes) await deps.dispatcher.pump(lane);
    }),
    every(intervals.webhookMs, 'webhooks', log, async () => {
      while ((await deps.webhooks.runOnce()) > 0); // drain what is due, then wait
    }),
    every(intervals.sweepMs, 'sweep', log, async () => {
      const report = await sweep(ports, { retentionMs: deps.sweep.retentionMs, batch: 500 });
      metrics.sweptJobs.inc({ action: 'expired' }, report.expired.length);
      metrics.sweptJobs.inc({ action: 'removed' }, report.removed);
      if (report.expired.length > 0 || report.removed > 0) log.info({ expired: report.expired.length, removed: report.removed }, 'swept');
      for (const lane of new Set(report.expired.map((j) => j.lane))) deps.dispatcher.request(lane, 'freed');
    }),
    every(intervals.repairMs, 'repair', log, async () => {
      const redone = await redispatchStranded(ports.store, ports.queue, { olderThanMs: 10_000, duplicateWindowMs: deps.duplicateWindowMs });
      if (redone.length > 0) log.warn({ jobIds: redone.map((j) => j.id) }, 're-sent the messages of stranded jobs');
    }),
    // queue counts are a management call on Service Bus (throttled, Data Owner role): every 30 s at most
    every(Math.max(intervals.metricsMs, 30_000), 'queue-metrics', log, async () => {
      for (const lane of lanes) metrics.recordQueue(lane, await ports.queue.counts(lane));
    }),
    every(intervals.metricsMs, 'lane-metrics', log, async () => {
      for (const lane of lanes) {
        const load = await deps.dispatcher.load(lane);
        metrics.laneJobs.set({ lane, state: 'held' }, load.held);
        metrics.laneJobs.set({ lane, state: 'dispatched' }, load.dispatched);
        metrics.laneJobs.set({ lane, state: 'running' }, load.running);
      }
    }),
  ];
  return async () => {
    await Promise.all(loops.map((l) => l.stop()));
  };
}
