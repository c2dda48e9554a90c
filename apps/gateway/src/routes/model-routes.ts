import type { FastifyInstance } from 'fastify';
import { modelAllowed } from '@gpu-jobs/admission';
import { ModelList, ProblemDetails, type ModelView } from '@gpu-jobs/job-contract';
import type { ModelIndex } from '@gpu-jobs/runners';
import { INPUT_SCHEMAS } from '../jobs/job-service';

export function modelRoutes(models: ModelIndex) {
  const views: ModelView[] = models.models.map((m) => ({
    id: m.id,
    description: m.description,
    lane: m.lane,
    input: {
      kind: m.input.kind,
      maxBytes: m.input.maxBytes,
      schema: INPUT_SCHEMAS[m.input.kind],
      ...(m.input.tensors ? { tensors: m.input.tensors } : {}),
    },
    limits: { timeoutSeconds: m.limits.timeoutSeconds, maxAttempts: m.limits.maxAttempts },
  }));
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/v1/models',
      { schema: { tags: ['models'], summary: 'The models the caller may use', response: { 200: ModelList, '4xx': ProblemDetails } } },
      async (request) => ({ models: views.filter((v) => modelAllowed(request.tenant.limits, v.id)) }),
    );
  };
}
