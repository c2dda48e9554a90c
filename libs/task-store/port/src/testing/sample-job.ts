import type { Job } from '@gpu-jobs/job-contract';

let counter = 0;

/** A queued job with unique id; createdAt moves forward one millisecond per call so order is known. */
export function sampleJob(overrides: Partial<Job> = {}): Job {
  counter += 1;
  const createdAt = new Date(Date.UTC(2026, 0, 1) + counter).toISOString();
  return {
    id: `job-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    tenantId: 'tenant-a',
    model: 'ocr-en',
    lane: 'small-gpu',
    status: 'queued',
    priority: 'normal',
    attempts: 0,
    maxAttempts: 3,
    inputRef: `inputs/${counter}`,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}
