import { problem, type FieldError, type ProblemCode, type ProblemDetails } from '@gpu-jobs/job-contract';

/** An error the API answers with as problem+json; everything else is a 500 with no detail. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; retryAfterSeconds?: number } = {},
  ) {
    super(detail ?? code);
  }

  toProblem(instance?: string): ProblemDetails {
    return problem(this.code, {
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...this.extra,
    });
  }
}
