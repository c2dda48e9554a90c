import type { FastifyRequest } from 'fastify';
import type { Tenant, TenantRegistry } from '@gpu-jobs/admission';
import { AuthError, type Caller, type TokenVerifier } from '@gpu-jobs/auth';
import { ProblemError } from '../problem-error';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
    tenant: Tenant;
  }
}

/**
 * An onRequest hook: verifies the bearer token before the body is read, sets request.caller, and finds the
 * caller's tenant in the tenants file (an unknown tenant is 403 tenant_unknown).
 */
export function authenticate(verifier: TokenVerifier, tenants: TenantRegistry) {
  return async (request: FastifyRequest): Promise<void> => {
    try {
      request.caller = await verifier.verify(request.headers.authorization);
    } catch (err) {
      if (err instanceof AuthError) throw new ProblemError(err.code, err.message);
      throw err;
    }
    const tenant = tenants.get(request.caller.tenantId);
    if (!tenant) throw new ProblemError('tenant_unknown', 'the token names a tenant this platform does not know');
    request.tenant = tenant;
  };
}
