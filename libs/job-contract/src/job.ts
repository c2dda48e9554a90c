import Type from 'typebox';
import { TRACEPARENT_PATTERN } from './job-message';
import { JobStatus, Priority } from './job-status';

const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 UTC timestamp' });

export const JobError = Type.Object(
  {
    code: Type.String({ description: 'stable machine-readable code, e.g. input_invalid, worker_lost, dead_lettered' }),
    message: Type.String(),
    retryable: Type.Optional(Type.Boolean()),
  },
  { title: 'JobError' },
);
export type JobError = Type.Static<typeof JobError>;

export const JobProgress = Type.Object(
  {
    stage: Type.String({ description: 'pipeline stage, e.g. detection, recognition' }),
    done: Type.Optional(Type.Integer({ minimum: 0 })),
    total: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { title: 'JobProgress' },
);
export type JobProgress = Type.Static<typeof JobProgress>;

export const Webhook = Type.Object(
  {
    url: Type.String({ format: 'uri', maxLength: 2048 }),
    events: Type.Optional(Type.Array(JobStatus, { uniqueItems: true, maxItems: 8 })),
  },
  { title: 'Webhook', additionalProperties: false },
);
export type Webhook = Type.Static<typeof Webhook>;

/** The job's charge against its tenant's daily budget, in cost units. */
export const JobCost = Type.Object(
  {
    day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'UTC day whose budget the job is charged to' }),
    reserved: Type.Number({ minimum: 0, description: 'estimate reserved at admission' }),
    charged: Type.Optional(Type.Number({ minimum: 0, description: 'what the job finally cost: the actual cost on success, 0 otherwise' })),
  },
  { title: 'JobCost' },
);
export type JobCost = Type.Static<typeof JobCost>;

export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 256 }), {
  maxProperties: 32,
});

/**
 * A job as the task store keeps it. `attempts` counts starts: a queued job that has never run has 0.
 * Inputs and large results live in the blob store; the job holds their keys.
 */
export const Job = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    tenantId: Type.String({ minLength: 1, maxLength: 128 }),
    model: Type.String({ minLength: 1, maxLength: 128 }),
    lane: Type.String({ minLength: 1, maxLength: 64 }),
    status: JobStatus,
    priority: Priority,
    attempts: Type.Integer({ minimum: 0 }),
    maxAttempts: Type.Integer({ minimum: 1 }),
    inputRef: Type.String({ description: 'blob key of the input' }),
    progress: Type.Optional(JobProgress),
    result: Type.Optional(Type.Unknown({ description: 'inline result, when small enough' })),
    resultRef: Type.Optional(Type.String({ description: 'blob key of a result too large to inline' })),
    error: Type.Optional(JobError),
    cancelRequested: Type.Optional(Type.Boolean()),
    workerId: Type.Optional(Type.String()),
    webhook: Type.Optional(Webhook),
    metadata: Type.Optional(Metadata),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    cost: Type.Optional(JobCost),
    traceparent: Type.Optional(
      Type.String({ pattern: TRACEPARENT_PATTERN, description: 'the submit request trace context, carried to the worker' }),
    ),
    dispatchedAt: Type.Optional(
      Type.String({ format: 'date-time', description: "when the fair dispatcher released the job to its lane's queue" }),
    ),
    deadlineAt: Type.Optional(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    startedAt: Type.Optional(Timestamp),
    finishedAt: Type.Optional(Timestamp),
  },
  { title: 'Job' },
);
export type Job = Type.Static<typeof Job>;
