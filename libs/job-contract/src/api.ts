import Type from 'typebox';
import { JobCost, JobError, JobProgress, Metadata, Webhook, type Job } from './job';
import { JobStatus, Priority } from './job-status';
import { INPUT_KINDS, TensorSpec } from './model-registry';
import { NamedTensor } from './tensor';

/** Public API v1 request and response bodies. The gateway's routes use these, so the OpenAPI document is them. */

export const SubmitJobRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 128, description: 'a model id from GET /v1/models' }),
    // closed: one member per input kind, each checked against the model's kind (and its tensors) at submit
    input: Type.Object(
      {
        image: Type.Optional(Type.String({ minLength: 1, description: 'image models: base64 JPEG or PNG' })),
        text: Type.Optional(Type.String({ minLength: 1, description: 'text models' })),
        inputs: Type.Optional(Type.Array(NamedTensor, { minItems: 1, maxItems: 16, description: 'tensor models: named tensors' })),
      },
      {
        additionalProperties: false,
        description: 'image models: { image: <base64 JPEG or PNG> }; text models: { text }; tensor models: { inputs: [named tensors] }',
      },
    ),
    priority: Type.Optional(Priority),
    deadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 86_400, description: 'never started after this many seconds' })),
    webhook: Type.Optional(Webhook),
    metadata: Type.Optional(Metadata),
  },
  { title: 'SubmitJobRequest', additionalProperties: false },
);
export type SubmitJobRequest = Type.Static<typeof SubmitJobRequest>;

export const PublicJob = Type.Object(
  {
    id: Type.String(),
    model: Type.String(),
    status: JobStatus,
    priority: Priority,
    attempts: Type.Integer(),
    progress: Type.Optional(JobProgress),
    result: Type.Optional(Type.Unknown({ description: 'the result, when small enough to inline' })),
    resultUrl: Type.Optional(Type.String({ description: 'where to download a result too large to inline' })),
    error: Type.Optional(JobError),
    cancelRequested: Type.Optional(Type.Boolean()),
    cost: Type.Optional(JobCost),
    metadata: Type.Optional(Metadata),
    deadlineAt: Type.Optional(Type.String({ format: 'date-time' })),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Optional(Type.String({ format: 'date-time' })),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { title: 'Job' },
);
export type PublicJob = Type.Static<typeof PublicJob>;

export const JobList = Type.Object(
  { items: Type.Array(PublicJob), nextCursor: Type.Optional(Type.String({ description: 'pass as ?cursor= for the next page' })) },
  { title: 'JobList' },
);
export type JobList = Type.Static<typeof JobList>;

export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const GetJobQuery = Type.Object({
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 300, description: 'long-poll up to this many seconds for a terminal state' })),
});
export const ListJobsQueryString = Type.Object({
  status: Type.Optional(JobStatus),
  model: Type.Optional(Type.String({ maxLength: 128 })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});

export const ModelView = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    lane: Type.String(),
    input: Type.Object({
      kind: Type.Enum(INPUT_KINDS),
      maxBytes: Type.Integer(),
      schema: Type.Unknown({ description: 'JSON Schema of `input`' }),
      tensors: Type.Optional(Type.Array(TensorSpec, { description: 'tensor models: the inputs the model takes' })),
    }),
    limits: Type.Object({ timeoutSeconds: Type.Integer(), maxAttempts: Type.Integer() }),
  },
  { title: 'Model' },
);
export const ModelList = Type.Object({ models: Type.Array(ModelView) }, { title: 'ModelList' });
export type ModelView = Type.Static<typeof ModelView>;

/** What a client may see of a job: no tenant, lane, input reference, worker or idempotency key. */
export function toPublicJob(job: Job): PublicJob {
  const view: PublicJob = {
    id: job.id,
    model: job.model,
    status: job.status,
    priority: job.priority,
    attempts: job.attempts,
    createdAt: job.createdAt,
  };
  if (job.progress) view.progress = job.progress;
  if (job.result !== undefined) view.result = job.result;
  if (job.resultRef) view.resultUrl = `/v1/jobs/${encodeURIComponent(job.id)}/result`;
  if (job.error) view.error = job.error;
  if (job.cancelRequested) view.cancelRequested = true;
  if (job.cost) view.cost = job.cost;
  if (job.metadata) view.metadata = job.metadata;
  if (job.deadlineAt) view.deadlineAt = job.deadlineAt;
  if (job.startedAt) view.startedAt = job.startedAt;
  if (job.finishedAt) view.finishedAt = job.finishedAt;
  return view;
}
