import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import {
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

const errors = { '4xx': ProblemDetails, '5xx': ProblemDetails };
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'retry-safe submission: the same key and body return the same job' }),
  ),
  traceparent: Type.Optional(Type.String()),
});

export function jobRoutes(service: JobService, options: { longPollMaxSeconds: number }) {
  return async (app: FastifyInstance): Promise<void> => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.post(
      '/v1/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Submit a job',
          body: SubmitJobRequest,
          headers: IdempotencyHeaders,
          response: { 200: PublicJob, 202: PublicJob, ...errors },
        },
      },
      async (request, reply) => {
        const key = request.headers['idempotency-key'];
        const { job, created } = await service.submit(request.caller.tenantId, request.body, key, request.headers.traceparent);
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
        if (wait === 0) return toPublicJob(await service.get(request.caller.tenantId, request.params.id));
        const gone = new AbortController();
        request.raw.once('close', () => gone.abort());
        return toPublicJob(await service.waitForTerminal(request.caller.tenantId, request.params.id, wait, gone.signal));
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
        const page = await service.list(request.caller.tenantId, {
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
      async (request) => toPublicJob(await service.cancel(request.caller.tenantId, request.params.id)),
    );

    api.get(
      '/v1/jobs/:id/result',
      { schema: { tags: ['jobs'], summary: 'Download a result too large to inline', params: JobIdParams } },
      async (request, reply) => {
        const { metadata, body } = await service.resultStream(request.caller.tenantId, request.params.id);
        return reply.type(metadata.contentType).header('content-length', metadata.size).send(body);
      },
    );
  };
}
