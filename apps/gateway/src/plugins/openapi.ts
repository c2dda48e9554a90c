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
          'Submit a job, get 202 with its id, then poll (GET /v1/jobs/{id}?wait=N long-polls). Errors are application/problem+json with a stable `code`. Get a local token with `npm run token -- --tenant <name>`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearerAuth: [] }],
      tags: [{ name: 'jobs' }, { name: 'models' }, { name: 'health' }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
