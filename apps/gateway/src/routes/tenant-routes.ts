import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { TenantLimits, budgetDay } from '@gpu-jobs/admission';
import { ProblemDetails } from '@gpu-jobs/job-contract';
import type { TaskStore } from '@gpu-jobs/task-store';

const TenantView = Type.Object(
  {
    id: Type.String(),
    weight: Type.Number({ description: 'share of a contended lane relative to other tenants' }),
    limits: TenantLimits,
    usage: Type.Object({
      day: Type.String({ description: 'UTC day' }),
      budgetUsed: Type.Number({ description: 'cost units used or reserved today' }),
      activeJobs: Type.Integer({ description: 'jobs queued or running' }),
    }),
  },
  { title: 'Tenant' },
);

/** The caller's own tenant: its limits, today's usage, and its webhook signing secret. */
export function tenantRoutes(store: TaskStore, webhookSecret: (tenantId: string) => string | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get(
      '/v1/tenant',
      {
        schema: {
          tags: ['tenant'],
          summary: "The caller's limits and today's usage",
          response: { 200: TenantView, '4xx': ProblemDetails },
        },
      },
      async (request) => {
        const { id, weight, limits } = request.tenant;
        const day = budgetDay(new Date());
        const [budgetUsed, activeJobs] = await Promise.all([store.getUsage(id, day), store.countActive(id)]);
        return { id, weight, limits, usage: { day, budgetUsed, activeJobs } };
      },
    );
    api.get(
      '/v1/tenant/webhook-secret',
      {
        schema: {
          tags: ['tenant'],
          summary: 'The secret webhook deliveries are signed with (Standard Webhooks, whsec_...)',
          response: { 200: Type.Object({ secret: Type.String() }), '4xx': ProblemDetails },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', 'no-store');
        return { secret: webhookSecret(request.tenant.id) ?? '' };
      },
    );
  };
}
