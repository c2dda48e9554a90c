import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem } from '@gpu-jobs/job-contract';
import type { PlatformMetrics } from '@gpu-jobs/telemetry';

export interface PressureLimits {
  /** 0 turns a check off. */
  maxEventLoopDelayMs: number;
  maxHeapUsedBytes: number;
  maxRssBytes: number;
  retryAfterSeconds: number;
  /** How often the process is measured (under-pressure's default: 1 s). */
  sampleIntervalMs?: number;
}

/**
 * Sheds load before the process falls over: when the event loop lags or memory grows past the limits,
 * requests get 503 not_ready with Retry-After (probes included, so the load balancer backs off too).
 */
export async function registerBackpressure(app: FastifyInstance, limits: PressureLimits, metrics: PlatformMetrics): Promise<void> {
  // Returning the body (not sending it) makes under-pressure send it and stop the request there; a handler that
  // sends and returns nothing lets the request go on to its route, which then answers a second time. The
  // plugin's types only admit void, though its code sends a returned value: hence the cast.
  const pressureHandler = ((_request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) => {
    metrics.admissionRejects.inc({ reason: 'overloaded' });
    reply.code(503).header('retry-after', String(limits.retryAfterSeconds)).type('application/problem+json');
    return problem('not_ready', {
      detail: `the gateway is overloaded (${type}: ${Math.round(Number(value))}); retry later`,
      retryAfterSeconds: limits.retryAfterSeconds,
    });
  }) as unknown as NonNullable<FastifyUnderPressureOptions['pressureHandler']>;
  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapUsedBytes,
    maxRssBytes: limits.maxRssBytes,
    retryAfter: limits.retryAfterSeconds,
    ...(limits.sampleIntervalMs ? { sampleInterval: limits.sampleIntervalMs } : {}),
    exposeStatusRoute: false,
    pressureHandler,
  });
}
