import type { QueueRuntimeProperties } from '@azure/service-bus';
import type { QueueCounts } from '@gpu-jobs/queue';

type Runtime = Pick<
  QueueRuntimeProperties,
  | 'activeMessageCount'
  | 'deadLetterMessageCount'
  | 'scheduledMessageCount'
  | 'totalMessageCount'
  | 'transferMessageCount'
  | 'transferDeadLetterMessageCount'
>;

/**
 * The port's counts from a queue's runtime properties. Service Bus counts a message under a lock neither as
 * active ("ready for delivery") nor as scheduled, but it is in the total, so locked = total - active -
 * scheduled - dead-lettered - transfer. That is the in-flight figure KEDA's Service Bus scaler does not see.
 * The oldest active message's age comes from a peek (the first active message by sequence number).
 */
export function countsFromRuntime(runtime: Runtime, oldestActiveEnqueued: Date | undefined, now: number): QueueCounts {
  const active = runtime.activeMessageCount ?? 0;
  const scheduled = runtime.scheduledMessageCount ?? 0;
  const deadLettered = runtime.deadLetterMessageCount ?? 0;
  const transfer = (runtime.transferMessageCount ?? 0) + (runtime.transferDeadLetterMessageCount ?? 0);
  const locked = Math.max(0, (runtime.totalMessageCount ?? 0) - active - scheduled - deadLettered - transfer);
  return {
    active,
    locked,
    scheduled,
    deadLettered,
    oldestActiveAgeMs: active > 0 && oldestActiveEnqueued ? Math.max(0, now - oldestActiveEnqueued.getTime()) : 0,
  };
}
