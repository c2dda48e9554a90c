import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { BlobTooLargeError } from '@gpu-jobs/blob-store';
import { problem, type ProblemDetails } from '@gpu-jobs/job-contract';
import { ProblemError } from '../problem-error';

function send(reply: FastifyReply, body: ProblemDetails): FastifyReply {
  if (body.retryAfterSeconds !== undefined) reply.header('retry-after', String(body.retryAfterSeconds));
  return reply.code(body.status).type('application/problem+json').send(body);
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string };
}

function fieldPath(e: AjvError): string {
  const base = e.instancePath ?? '';
  if (e.params?.missingProperty) return `${base}/${e.params.missingProperty}`;
  if (e.params?.additionalProperty) return `${base}/${e.params.additionalProperty}`;
  return base || '/';
}

/**
 * Every error leaves as RFC 9457 problem+json with a stable code. Client errors say what was wrong;
 * server errors say nothing beyond their request id, and are logged with it.
 */
export function registerProblemHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) =>
    send(reply, problem('not_found', { detail: `no route ${request.method} ${request.url.split('?')[0]}` })),
  );

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const instance = request.url.split('?')[0];
    if (error instanceof ProblemError) return send(reply, error.toProblem(instance));
    if (error.validation) {
      const errors = (error.validation as AjvError[]).map((e) => ({ path: fieldPath(e), message: e.message ?? 'is invalid' }));
      const where = error.validationContext ?? 'request';
      return send(
        reply,
        problem('validation_failed', {
          detail: `${where}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
          errors,
          ...(instance ? { instance } : {}),
        }),
      );
    }
    if (error instanceof BlobTooLargeError || error.statusCode === 413) {
      return send(reply, problem('payload_too_large', { detail: 'the request body is larger than this API accepts' }));
    }
    if (error.statusCode === 415) return send(reply, problem('unsupported_media_type', { detail: 'send Content-Type: application/json' }));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      const detail = error.code?.startsWith('FST_ERR_CTP') ? 'the body is not valid JSON' : 'the request is not valid';
      return send(reply, problem('validation_failed', { detail }));
    }
    request.log.error({ err: { name: error.name, message: error.message, stack: error.stack }, reqId: request.id }, 'request failed');
    return send(reply, problem('internal', { detail: `request ${request.id} failed; it has been logged` }));
  });
}

/**
 * Errors Fastify meets before a route runs: a URL it cannot decode (bad percent-encoding). They answer
 * problem+json like every other error.
 */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, _request, reply) => {
  const code = (error as FastifyError).code;
  void send(reply, problem(code === 'FST_ERR_BAD_URL' ? 'validation_failed' : 'not_found', { detail: 'the URL cannot be decoded' }));
};

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request took too long to arrive'],
};

/**
 * Node's own HTTP errors (malformed requests, oversized headers, a missing Host): a problem+json answer written
 * to the socket, since no request object exists yet, then the connection closes.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, detail] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'the request is not valid HTTP'];
  const body = JSON.stringify({ ...problem('validation_failed', { detail }), status });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
