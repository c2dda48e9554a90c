import type { FairDispatcher, Ports, WebhookDispatcher } from '@gpu-jobs/platform';
import { redispatchStranded, runEvery as every, sweep } from '@gpu-jobs/platform';
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

/** Re-sends the messages of jobs marked dispatched whose send may not have happened (see redispatchStranded). */
export async function repairStranded(ports: Ports, duplicateWindowMs: number, log: Logger): Promise<void> {
  const redone = await redispatchStranded(ports.store, ports.queue, { olderThanMs: 10_000, duplicateWindowMs });
  if (redone.length > 0) log.warn({ jobIds: redone.map((j) => j.id) }, 're-sent the messages of stranded jobs');
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
    every(intervals.repairMs, 'repair', log, () => repairStranded(ports, deps.duplicateWindowMs, log)),
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
