import type { FastifyRequest } from 'fastify';
import { AuthError, type Caller, type TokenVerifier } from '@gpu-jobs/auth';
import { ProblemError } from '../problem-error';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

/** An onRequest hook: verifies the bearer token before the body is read, and sets request.caller. */
export function authenticate(verifier: TokenVerifier) {
  return async (request: FastifyRequest): Promise<void> => {
    try {
      request.caller = await verifier.verify(request.headers.authorization);
    } catch (err) {
      if (err instanceof AuthError) throw new ProblemError(err.code, err.message);
      throw err;
    }
  };
}
