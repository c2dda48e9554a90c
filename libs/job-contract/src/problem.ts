import Type from 'typebox';

/**
 * Stable problem codes of the public API. Clients branch on `code`, never on `title` or `detail`;
 * a code, once published, keeps its meaning and status.
 */
export const PROBLEM_CODES = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  unauthorized: { status: 401, title: 'Missing or invalid credentials' },
  token_expired: { status: 401, title: 'The token has expired' },
  budget_exceeded: { status: 402, title: 'The daily budget is spent' },
  tenant_unknown: { status: 403, title: 'The tenant is not known' },
  model_not_allowed: { status: 403, title: 'The tenant may not use this model' },
  job_not_found: { status: 404, title: 'No such job' },
  not_acceptable: { status: 406, title: 'The response cannot be produced in an accepted media type' },
  not_found: { status: 404, title: 'No such resource' },
  idempotency_conflict: { status: 409, title: 'The idempotency key was used with another request' },
  job_already_finished: { status: 409, title: 'The job has already finished' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The content type is not supported' },
  model_unknown: { status: 422, title: 'The model is not known' },
  input_invalid: { status: 422, title: 'The input cannot be used by the model' },
  webhook_url_refused: { status: 422, title: 'The webhook URL is not allowed' },
  rate_limited: { status: 429, title: 'Too many requests' },
  concurrency_limited: { status: 429, title: 'Too many jobs in progress' },
  too_many_waits: { status: 429, title: 'Too many open waits and event streams' },
  queue_full: { status: 503, title: 'The queue is full; retry later' },
  not_ready: { status: 503, title: 'The service is not ready' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** RFC 9457 problem details, with the stable `code` extension. */
export const ProblemDetails = Type.Object(
  {
    type: Type.String({ description: 'URI reference naming the problem type' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    code: Type.String({ description: 'stable machine-readable code' }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { title: 'ProblemDetails', additionalProperties: true },
);
export type ProblemDetails = Type.Static<typeof ProblemDetails>;

/** Builds the problem document for a code; `type` is a stable, dereferenceable-looking URN. */
export function problem(code: ProblemCode, extra: Omit<Partial<ProblemDetails>, 'code' | 'status' | 'type'> = {}): ProblemDetails {
  const { status, title } = PROBLEM_CODES[code];
  return { type: `urn:gpu-jobs:problem:${code}`, title, status, code, ...extra };
}
