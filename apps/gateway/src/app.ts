import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifySse from '@fastify/sse';
import type { TenantRegistry } from '@gpu-jobs/admission';
import type { FairDispatcher, Ports } from '@gpu-jobs/platform';
import type { UrlPolicy } from '@gpu-jobs/webhooks';
import type { ModelIndex } from '@gpu-jobs/runners';
import type { PlatformMetrics } from '@gpu-jobs/telemetry';
import type { TokenVerifier } from '@gpu-jobs/auth';
import { JobService } from './jobs/job-service';
import { ProblemError } from './problem-error';
import { authenticate } from './plugins/authenticate';
import { registerBackpressure, type PressureLimits } from './plugins/backpressure';
import { rateLimit } from './plugins/rate-limit';
import { registerOpenApi } from './plugins/openapi';
import { clientErrorHandler, frameworkErrors, registerProblemHandler } from './plugins/problem-handler';
import { registerRequestMetrics } from './plugins/request-metrics';
import { healthRoutes, type HealthState } from './routes/health-routes';
import { jobRoutes } from './routes/job-routes';
import { modelRoutes } from './routes/model-routes';
import { tenantRoutes } from './routes/tenant-routes';

export interface GatewayDeps {
  ports: Ports;
  models: ModelIndex;
  metrics: PlatformMetrics;
  verifier: TokenVerifier;
  health: HealthState;
  bodyLimitBytes: number;
  longPollMaxSeconds: number;
  idempotencyTtlMs: number;
  resultLinkSeconds?: number;
  tenants: TenantRegistry;
  dispatcher: FairDispatcher;
  webhookPolicy: UrlPolicy;
  webhookSecret: (tenantId: string) => string | undefined;
  pressure: PressureLimits;
  /** Open long-polls and event streams allowed per tenant and in this gateway. */
  waits?: { perTenant: number; total: number };
  logger: FastifyServerOptions['loggerInstance'] | boolean;
}

/** Builds the gateway: external plugins, then app plugins, then routes; tests call it and use inject(). */
export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(typeof deps.logger === 'boolean' ? { logger: deps.logger } : { loggerInstance: deps.logger }),
    bodyLimit: deps.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    requestTimeout: 120_000,
    connectionTimeout: 130_000,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    // one line per request (in request-metrics), not Fastify's two
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
    // errors before routing (undecodable URLs) and at the HTTP parser (bad requests, huge headers, no Host): problem+json too
    frameworkErrors,
    clientErrorHandler,
    // Node answers a request without Host with an empty 400 of its own; the hook below answers it as a problem
    http: { requireHostHeader: false },
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.headers.host && request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor >= 1) {
      reply.header('connection', 'close');
      throw new ProblemError('validation_failed', 'an HTTP/1.1 request needs a Host header');
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerProblemHandler(app);
  await registerOpenApi(app);
  registerRequestMetrics(app, deps.metrics);
  await registerBackpressure(app, deps.pressure, deps.metrics);
  await app.register(fastifySse, { heartbeatInterval: 15_000 });
  await app.register(healthRoutes(deps.health));

  const service = new JobService({
    ports: deps.ports,
    models: deps.models,
    metrics: deps.metrics,
    dispatcher: deps.dispatcher,
    idempotencyTtlMs: deps.idempotencyTtlMs,
    webhookPolicy: deps.webhookPolicy,
    resultLinkSeconds: deps.resultLinkSeconds ?? 300,
    ...(deps.waits ? { waits: deps.waits } : {}),
  });
  // how many long-polls and event streams are open (for the status of one gateway, and tests)
  app.decorate('openWaits', () => service.waits.open);
  await app.register(async (v1) => {
    v1.addHook('onRequest', authenticate(deps.verifier, deps.tenants));
    v1.addHook('onRequest', rateLimit(deps.ports.store, deps.metrics));
    await v1.register(jobRoutes(service, { longPollMaxSeconds: deps.longPollMaxSeconds }));
    await v1.register(modelRoutes(deps.models));
    await v1.register(tenantRoutes(deps.ports.store, deps.webhookSecret));
  });
  return app;
}
