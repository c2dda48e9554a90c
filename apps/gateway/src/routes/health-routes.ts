import type { FastifyInstance } from 'fastify';

export interface HealthState {
  /** Start-up work (the stranded-job repair pass) is done. */
  started: boolean;
  /** Accepting traffic: false from the moment shutdown begins, so the load balancer drains us first. */
  ready: boolean;
}

/** Probes, apart from business routes and without authentication. */
export function healthRoutes(state: HealthState) {
  return async (app: FastifyInstance): Promise<void> => {
    const opts = { schema: { tags: ['health'], security: [] } };
    app.get('/health/live', opts, async () => ({ status: 'live' }));
    app.get('/health/startup', opts, async (_req, reply) =>
      reply.code(state.started ? 200 : 503).send({ status: state.started ? 'started' : 'starting' }),
    );
    app.get('/health/ready', opts, async (_req, reply) =>
      reply.code(state.ready ? 200 : 503).send({ status: state.ready ? 'ready' : 'not ready' }),
    );
  };
}
