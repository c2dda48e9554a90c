import Type from 'typebox';
import { Priority } from './job-status';

/**
 * The body of a queue message: references only, never the payload, so a message stays small
 * and the input is read once, by the worker that runs the job.
 */
/** W3C trace context, `traceparent` header format. */
export const TRACEPARENT_PATTERN = '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$';

export const JobMessage = Type.Object(
  {
    jobId: Type.String({ minLength: 1 }),
    tenantId: Type.String({ minLength: 1 }),
    model: Type.String({ minLength: 1 }),
    lane: Type.String({ minLength: 1 }),
    inputRef: Type.String({ minLength: 1 }),
    priority: Priority,
    deadline: Type.Optional(Type.String({ format: 'date-time' })),
    traceparent: Type.Optional(Type.String({ pattern: TRACEPARENT_PATTERN })),
    attempt: Type.Integer({ minimum: 0, description: 'attempts already made when this message was sent' }),
  },
  { title: 'JobMessage', additionalProperties: false },
);
export type JobMessage = Type.Static<typeof JobMessage>;
