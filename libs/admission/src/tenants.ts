import Type from 'typebox';

/** What one tenant may do. Every limit is checked before anything is stored or queued. */
export const TenantLimits = Type.Object(
  {
    models: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'model ids the tenant may use; "*" allows every model in the registry',
    }),
    maxInputBytes: Type.Integer({ minimum: 1, description: "largest input (decoded) of one job; the model's own limit also applies" }),
    maxConcurrentJobs: Type.Integer({ minimum: 1, description: 'jobs queued or running at once' }),
    requestsPerMinute: Type.Integer({ minimum: 1, description: 'API requests per minute, refilled continuously (token bucket)' }),
    burst: Type.Optional(Type.Integer({ minimum: 1, description: 'bucket size: requests allowed at once; requestsPerMinute when absent' })),
    dailyBudget: Type.Number({ minimum: 0, description: 'cost units per UTC day (see costUnits in the model registry)' }),
  },
  { title: 'TenantLimits', additionalProperties: false },
);
export type TenantLimits = Type.Static<typeof TenantLimits>;

export const TenantEntry = Type.Object(
  {
    weight: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'share of a contended lane relative to other tenants; 1 when absent' }),
    ),
    limits: Type.Optional(Type.Partial(TenantLimits, { additionalProperties: false })),
    webhookSecretEnv: Type.Optional(
      Type.String({
        pattern: '^[A-Z_][A-Z0-9_]*$',
        description:
          "environment variable holding the tenant's webhook signing secret (whsec_...); derived from WEBHOOK_MASTER_KEY when absent",
      }),
    ),
  },
  { additionalProperties: false },
);
export type TenantEntry = Type.Static<typeof TenantEntry>;

export const TenantsFile = Type.Object(
  {
    defaults: TenantLimits,
    tenants: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' }), TenantEntry),
  },
  { title: 'TenantsFile', additionalProperties: false },
);
export type TenantsFile = Type.Static<typeof TenantsFile>;

/** A tenant with the defaults filled in. */
export interface Tenant {
  id: string;
  weight: number;
  limits: TenantLimits;
  webhookSecretEnv?: string;
}

export function resolveTenants(file: TenantsFile): Map<string, Tenant> {
  return new Map(
    Object.entries(file.tenants).map(([id, entry]) => {
      const tenant: Tenant = { id, weight: entry.weight ?? 1, limits: { ...file.defaults, ...entry.limits } };
      if (entry.webhookSecretEnv) tenant.webhookSecretEnv = entry.webhookSecretEnv;
      return [id, tenant];
    }),
  );
}

export function modelAllowed(limits: TenantLimits, model: string): boolean {
  return limits.models.includes('*') || limits.models.includes(model);
}
