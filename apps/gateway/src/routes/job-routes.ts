import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import {
  WebhookDeliveryView,
  GetJobQuery,
  JobIdParams,
  JobList,
  ListJobsQueryString,
  ProblemDetails,
  PublicJob,
  SubmitJobRequest,
  toPublicJob,
} from '@gpu-jobs/job-contract';
import type { JobService } from '../jobs/job-service';
import { ProblemError } from '../problem-error';

/**
 * Whether an Accept header admits text/event-stream: absent, or naming it, text/* or * / * without q=0 (the
 * event route's own answer otherwise, 406, as problem+json).
 */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const refused = params.some((p) => /^q=0(\.0{0,3})?$/.test(p));
    return !refused && (type === 'text/event-stream' || type === 'text/*' || type === '*/*');
  });
}

const errors = { '4xx': ProblemDetails, '5xx': ProblemDetails };
const limited = {
  headers: { 'retry-after': { type: 'integer', description: 'seconds to wait (429, 402 and 503 answers)' } },
};
const submitErrors = {
  400: ProblemDetails,
  401: ProblemDetails,
  402: { ...ProblemDetails, description: 'budget_exceeded: the daily budget is spent; Retry-After is the next UTC day', ...limited },
  403: { ...ProblemDetails, description: 'tenant_unknown or model_not_allowed' },
  409: { ...ProblemDetails, description: 'idempotency_conflict: the key was used with a different body' },
  413: { ...ProblemDetails, description: "payload_too_large: above the model's or the tenant's input limit" },
  422: { ...ProblemDetails, description: 'model_unknown, input_invalid or webhook_url_refused' },
  429: { ...ProblemDetails, description: 'rate_limited or concurrency_limited', ...limited },
  503: { ...ProblemDetails, description: "queue_full (the lane's backlog cap) or not_ready (overloaded)", ...limited },
  '5xx': ProblemDetails,
};
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'retry-safe submission: the same key and body return the same job (200); another body is 409. Keys are remembered for IDEMPOTENCY_TTL_SECONDS (24 h by default)',
    }),
  ),
  traceparent: Type.Optional(Type.String()),
});

export function jobRoutes(service: JobService, options: { longPollMaxSeconds: number }) {
  return async (app: FastifyInstance): Promise<void> => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    // open event streams end when the server closes, so a shutdown never waits for jobs to finish
    const closing = new AbortController();
    app.addHook('preClose', async () => closing.abort());

    api.post(
      '/v1/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Submit a job',
          body: SubmitJobRequest,
          headers: IdempotencyHeaders,
          description:
            'Admission checks, in order: token, tenant, rate (429), model allowed (403), input size (413), webhook URL (422), lane backlog (503), concurrent jobs (429), daily budget (402). With an Idempotency-Key, a retry with the same body answers 200 with the first job.',
          response: {
            200: { ...PublicJob, description: 'idempotent replay: the job an earlier request with this key created' },
            202: { ...PublicJob, description: 'accepted; Location names the job' },
            ...submitErrors,
          },
        },
      },
      async (request, reply) => {
        const key = request.headers['idempotency-key'];
        const { job, created } = await service.submit(request.tenant, request.body, key, request.headers.traceparent);
        request.log.info({ jobId: job.id, model: job.model, created }, created ? 'job accepted' : 'idempotent replay');
        return reply
          .code(created ? 202 : 200)
          .header('location', `/v1/jobs/${job.id}`)
          .send(toPublicJob(job));
      },
    );

    api.get(
      '/v1/jobs/:id',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Read a job; ?wait=N long-polls for a terminal state',
          params: JobIdParams,
          querystring: GetJobQuery,
          response: { 200: PublicJob, ...errors },
        },
      },
      async (request) => {
        const wait = Math.min(request.query.wait ?? 0, options.longPollMaxSeconds);
        if (wait === 0) return toPublicJob(await service.get(request.tenant.id, request.params.id));
        const gone = new AbortController();
        request.raw.once('close', () => gone.abort());
        return toPublicJob(await service.waitForTerminal(request.tenant.id, request.params.id, wait, gone.signal));
      },
    );

    api.get(
      '/v1/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: "The caller's jobs, newest first",
          querystring: ListJobsQueryString,
          response: { 200: JobList, ...errors },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await service.list(request.tenant.id, {
          limit: q.limit,
          ...(q.status ? { status: q.status } : {}),
          ...(q.model ? { model: q.model } : {}),
          ...(q.cursor ? { cursor: q.cursor } : {}),
        });
        return { items: page.items.map(toPublicJob), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
      },
    );

    api.post(
      '/v1/jobs/:id/cancel',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Cancel a job (queued: at once; running: recorded, best effort)',
          params: JobIdParams,
          response: { 200: PublicJob, ...errors },
        },
      },
      async (request) => toPublicJob(await service.cancel(request.tenant.id, request.params.id)),
    );

    api.get(
      '/v1/jobs/:id/events',
      {
        sse: 'only',
        preHandler: async (request) => {
          if (!acceptsEventStream(request.headers.accept))
            throw new ProblemError('not_acceptable', 'this route answers text/event-stream only; poll GET /v1/jobs/{id} for JSON');
        },
        schema: {
          tags: ['jobs'],
          summary: 'Server-sent events of status and progress changes',
          description:
            'text/event-stream. Each event is the whole job (as GET /v1/jobs/{id}), `event: status` when its status changed and `event: progress` otherwise, with `id` its version. The stream closes after a terminal state. Reconnect with Last-Event-ID to resume after the last event seen: versions already seen are not sent again.',
          params: JobIdParams,
          headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 32 })) }),
          response: {
            200: { description: 'text/event-stream of job versions', content: { 'text/event-stream': { schema: PublicJob } } },
            406: { ...ProblemDetails, description: 'not_acceptable: the Accept header refuses text/event-stream' },
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const gone = new AbortController();
        request.raw.once('close', () => gone.abort());
        const stop = AbortSignal.any([gone.signal, closing.signal]);
        // a place among the open waits, held while the stream is open (429 or 503 beyond the caps)
        const release = service.waits.acquire(request.tenant.id);
        request.raw.once('close', release);
        const versions = service.versions(request.tenant.id, request.params.id, reply.sse.lastEventId, stop);
        const first = await versions.next().catch((err: unknown) => {
          release();
          throw err;
        }); // a missing job is a 404 before the stream starts
        let status = first.done ? undefined : first.value.job.status;
        async function* events() {
          if (first.done) return;
          yield { id: first.value.id, event: 'status', data: toPublicJob(first.value.job) };
          for await (const v of versions) {
            yield { id: v.id, event: v.job.status === status ? 'progress' : 'status', data: toPublicJob(v.job) };
            status = v.job.status;
          }
        }
        await reply.sse.send(events());
      },
    );

    api.get(
      '/v1/jobs/:id/webhook-deliveries',
      {
        schema: {
          tags: ['jobs'],
          summary: "The job's webhook deliveries and every attempt",
          params: JobIdParams,
          response: { 200: Type.Object({ items: Type.Array(WebhookDeliveryView) }), ...errors },
        },
      },
      async (request) => {
        const items = await service.webhookDeliveries(request.tenant.id, request.params.id);
        return {
          items: items.map((d) => ({
            id: d.id,
            type: d.type,
            state: d.state,
            attempts: d.attempts,
            createdAt: d.createdAt,
            history: d.history,
            ...(d.state === 'pending' ? { nextAttemptAt: d.nextAttemptAt } : {}),
          })),
        };
      },
    );

    api.get(
      '/v1/jobs/:id/result',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Download a result too large to inline',
          description:
            'The result itself, or (with Azure Blob Storage) 307 to a short-lived read-only link, so large results never pass through the gateway.',
          params: JobIdParams,
        },
      },
      async (request, reply) => {
        const result = await service.result(request.tenant.id, request.params.id);
        if ('url' in result) return reply.header('cache-control', 'no-store').redirect(result.url, 307);
        return reply.type(result.metadata.contentType).header('content-length', result.metadata.size).send(result.body);
      },
    );
  };
}
