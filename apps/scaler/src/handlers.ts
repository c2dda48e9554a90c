import type { InvocationContext, Timer } from '@azure/functions';
import { handleDeadLetter, type Ports, type ScalerRunner, type Tier } from '@gpu-jobs/platform';

export interface HandlerDeps {
  ports: Pick<Ports, 'store'>;
  runner: ScalerRunner;
  lanes: readonly string[];
}

/**
 * A timer run of one tier over every lane. Each lane's decision is logged with its reason; a lane that fails
 * does not stop the others, and the error is rethrown at the end so the Functions host records the failure.
 */
export function tierHandler(tier: Tier, deps: () => Promise<HandlerDeps>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const { runner, lanes } = await deps();
    if (timer.isPastDue) context.warn(`${tier}: this run is late (the host was busy or restarting)`);
    const failures: string[] = [];
    for (const lane of lanes) {
      try {
        const d = await runner.run(lane, tier);
        if (!d) context.log(`${tier} ${lane}: a run is still going; skipped`);
        else context.log(`${tier} ${lane}: ${d.reason}`);
      } catch (err) {
        failures.push(`${lane}: ${(err as Error).message}`);
        context.error(`${tier} ${lane} failed: ${(err as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`${tier} failed for ${failures.join('; ')}`);
  };
}

/**
 * The Service Bus trigger on a lane's dead-letter queue: the job of a message the broker gave up on (too
 * many deliveries, expiry) ends `failed` with the dead-letter reason. The host completes the message when
 * this returns and retries it when it throws.
 */
export function deadLetterHandler(deps: () => Promise<HandlerDeps>, onHandled?: (outcome: string) => void) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const { ports } = await deps();
    const meta = context.triggerMetadata ?? {};
    const reason = String(meta['deadLetterReason'] ?? 'DeadLettered');
    const description = meta['deadLetterErrorDescription'] === undefined ? undefined : String(meta['deadLetterErrorDescription']);
    const outcome = await handleDeadLetter(ports.store, message, reason, description);
    onHandled?.(outcome);
    context.log(`dead letter ${String(meta['messageId'] ?? '')}: ${outcome} (${reason})`);
  };
}
