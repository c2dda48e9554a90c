import Type from 'typebox';
import { toPublicJob } from './api';
import type { Job } from './job';
import { TERMINAL_STATUSES, isTerminal, type JobStatus } from './job-status';

/**
 * What else must change, in the same atomic write, when a job moves from `previous` to `next`: the tenant's
 * budget is settled when the job ends, and a webhook delivery is recorded when it reaches a status its
 * webhook subscribed to. Stores apply these with the conditional update, so they happen exactly once.
 */
export interface WriteEffects {
  usage?: UsageEffect;
  webhook?: NewWebhookDelivery;
}

export interface UsageEffect {
  tenantId: string;
  day: string;
  /** Added to the day's total; negative for a refund. */
  delta: number;
}

/** Statuses a webhook gets when its `events` are not given. */
export const DEFAULT_WEBHOOK_EVENTS: readonly JobStatus[] = [...TERMINAL_STATUSES];

export const WebhookAttempt = Type.Object(
  {
    at: Type.String({ format: 'date-time' }),
    status: Type.Optional(Type.Integer({ description: 'HTTP status the receiver answered' })),
    error: Type.Optional(Type.String({ description: 'why no answer came: timeout, refused address, ...' })),
    durationMs: Type.Integer({ minimum: 0 }),
  },
  { title: 'WebhookAttempt' },
);
export type WebhookAttempt = Type.Static<typeof WebhookAttempt>;

export const WEBHOOK_DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;

export const WebhookDeliveryView = Type.Object(
  {
    id: Type.String({ description: 'the webhook-id header of every attempt; receivers deduplicate on it' }),
    type: Type.String({ description: 'event type, e.g. job.succeeded' }),
    state: Type.Enum(WEBHOOK_DELIVERY_STATES),
    attempts: Type.Integer({ minimum: 0 }),
    nextAttemptAt: Type.Optional(Type.String({ format: 'date-time' })),
    createdAt: Type.String({ format: 'date-time' }),
    history: Type.Array(WebhookAttempt),
  },
  { title: 'WebhookDelivery' },
);

export interface NewWebhookDelivery {
  id: string;
  jobId: string;
  tenantId: string;
  url: string;
  type: string;
  /** The exact body sent (and signed) on every attempt. */
  payload: string;
  createdAt: string;
}

export interface WebhookDelivery extends NewWebhookDelivery {
  state: (typeof WEBHOOK_DELIVERY_STATES)[number];
  attempts: number;
  nextAttemptAt: string;
  history: WebhookAttempt[];
}

export function effectsOf(previous: Job, next: Job): WriteEffects {
  const effects: WriteEffects = {};
  if (next.cost && isTerminal(next.status) && !isTerminal(previous.status)) {
    effects.usage = { tenantId: next.tenantId, day: next.cost.day, delta: (next.cost.charged ?? 0) - next.cost.reserved };
  }
  const statusChanged = next.status !== previous.status || next.attempts !== previous.attempts;
  if (next.webhook && statusChanged && (next.webhook.events ?? DEFAULT_WEBHOOK_EVENTS).includes(next.status)) {
    const type = `job.${next.status}`;
    effects.webhook = {
      id: `${next.id}.${next.status}.${next.attempts}`,
      jobId: next.id,
      tenantId: next.tenantId,
      url: next.webhook.url,
      type,
      payload: JSON.stringify({ type, timestamp: next.updatedAt, data: toPublicJob(next) }),
      createdAt: next.updatedAt,
    };
  }
  return effects;
}
