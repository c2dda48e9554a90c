import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** The OpenAPI document, generated from the route schemas, at /openapi.json; the interactive UI at /docs. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'GPU inference jobs',
        version: '1.0.0',
        description:
          'Submit a job, get 202 with its id, then poll (GET /v1/jobs/{id}?wait=N long-polls), stream its changes (GET /v1/jobs/{id}/events, server-sent events) or receive a signed webhook (Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature; secret at GET /v1/tenant/webhook-secret). Errors are application/problem+json with a stable `code`; 429, 402 and 503 carry Retry-After. Each tenant has limits (GET /v1/tenant). Get a local token with `npm run token -- --tenant dev`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearerAuth: [] }],
      tags: [{ name: 'jobs' }, { name: 'models' }, { name: 'tenant' }, { name: 'health' }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
