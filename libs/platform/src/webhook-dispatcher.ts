import type { TaskStore, ClaimedDelivery, DeliveryOutcome } from '@gpu-jobs/task-store';
import { postWebhook, retryDelayMs, shouldRetry, signedHeaders, type RetryPolicy, type UrlPolicy } from '@gpu-jobs/webhooks';

export interface WebhookDispatcherOptions {
  /** The tenant's signing secret; undefined when the tenant is no longer known (the delivery fails). */
  secretFor: (tenantId: string) => string | undefined;
  policy: UrlPolicy;
  retry: RetryPolicy;
  timeoutMs: number;
  /** Deliveries sent at once per pass. */
  batch: number;
  onAttempt?: (delivery: ClaimedDelivery, outcome: DeliveryOutcome['state'], detail: { status?: number; error?: string }) => void;
}

/**
 * Sends the webhook deliveries that job transitions recorded in the task store (an outbox: a delivery exists
 * exactly when its transition happened). Each pass leases due deliveries, so several gateways can run it
 * together; each attempt is signed afresh, recorded, and followed by a retry with backoff and jitter, up to
 * the policy's limit. 2xx is delivered; other 4xx and refused addresses fail at once.
 */
export class WebhookDispatcher {
  constructor(
    private readonly store: TaskStore,
    private readonly options: WebhookDispatcherOptions,
  ) {}

  async runOnce(now = new Date()): Promise<number> {
    const leaseMs = this.options.timeoutMs * 2 + 5_000;
    const due = await this.store.claimWebhookDeliveries(now, this.options.batch, leaseMs);
    await Promise.all(due.map((d) => this.attempt(d)));
    return due.length;
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const at = new Date();
    const secret = this.options.secretFor(d.tenantId);
    const result = secret
      ? await postWebhook(d.url, d.payload, signedHeaders(secret, d.id, at, d.payload), {
          policy: this.options.policy,
          timeoutMs: this.options.timeoutMs,
        })
      : { error: 'the tenant has no signing secret', durationMs: 0 };
    const made = d.attempts + 1;
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    const final = result.error?.startsWith('refused') || !secret || !shouldRetry(result.status) || made >= this.options.retry.maxAttempts;
    const outcome: DeliveryOutcome = ok
      ? { state: 'delivered' }
      : final
        ? { state: 'failed' }
        : { state: 'pending', nextAttemptAt: new Date(Date.now() + retryDelayMs(made, this.options.retry)) };
    const attempt = { at: at.toISOString(), durationMs: result.durationMs, ...pick(result) };
    await this.store.recordWebhookAttempt(d.id, d.lease, attempt, outcome);
    this.options.onAttempt?.(d, outcome.state, pick(result));
  }
}

function pick(r: { status?: number; error?: string }): { status?: number; error?: string } {
  return { ...(r.status === undefined ? {} : { status: r.status }), ...(r.error === undefined ? {} : { error: r.error }) };
}
