import { PRIORITY_RANK, isTerminal, type Job, type JobVersion, type WebhookDelivery } from '@gpu-jobs/job-contract';
import type { DueQuery, ListJobsQuery } from '@gpu-jobs/task-store';
import { decodeCursor } from '@gpu-jobs/task-store';

/**
 * A job as stored in MongoDB: the whole job under `job` (as the API knows it) beside the fields that
 * queries, indexes and conditional updates need, typed for them (dates as Date for range scans and TTL).
 */
export interface JobDocument {
  _id: string;
  tenantId: string;
  model: string;
  lane: string;
  status: Job['status'];
  attempts: number;
  /** Compared exactly by every conditional update (a string: an ISO timestamp that only moves forward). */
  updatedAt: string;
  createdAt: Date;
  deadlineAt?: Date;
  /** 0 while held by the fair dispatcher, 1 once released to the lane's queue; never back. */
  dispatched: 0 | 1;
  dispatchedAt?: Date;
  priorityRank: number;
  /** Set when the job ends: the TTL index removes the document then (a backstop behind the sweeper). */
  purgeAt?: Date;
  job: Job;
}

export interface IdempotencyDocument {
  tenantId: string;
  key: string;
  jobId: string;
  requestHash: string;
  expiresAt: Date;
}

export interface UsageDocument {
  _id: string;
  tenantId: string;
  day: string;
  amount: number;
}

export interface BucketDocument {
  _id: string;
  tokens: number;
  updatedMs: number;
}

export interface DeliveryDocument {
  _id: string;
  jobId: string;
  state: WebhookDelivery['state'];
  nextAttemptAt: Date;
  delivery: WebhookDelivery;
}

export function toJobDocument(job: Job, retentionMs: number): JobDocument {
  const doc: JobDocument = {
    _id: job.id,
    tenantId: job.tenantId,
    model: job.model,
    lane: job.lane,
    status: job.status,
    attempts: job.attempts,
    updatedAt: job.updatedAt,
    createdAt: new Date(job.createdAt),
    dispatched: job.dispatchedAt ? 1 : 0,
    priorityRank: PRIORITY_RANK[job.priority],
    job,
  };
  if (job.deadlineAt) doc.deadlineAt = new Date(job.deadlineAt);
  if (job.dispatchedAt) doc.dispatchedAt = new Date(job.dispatchedAt);
  if (isTerminal(job.status)) doc.purgeAt = new Date(Date.parse(job.finishedAt ?? job.updatedAt) + retentionMs);
  return doc;
}

export function fromJobDocument(doc: Pick<JobDocument, 'job'>): Job {
  return doc.job;
}

/** The filter of a conditional write: the job is still at the version the writer read. */
export function casFilter(id: string, expected: JobVersion): Record<string, unknown> {
  return { _id: id, status: expected.status, attempts: expected.attempts, updatedAt: expected.updatedAt };
}

/**
 * The update of a conditional write: every field from the next job, except that `dispatched` only ever goes
 * from 0 to 1 and `dispatchedAt` keeps its first value ($max and $min leave a larger or earlier value alone).
 */
export function casUpdate(next: Job, retentionMs: number): Record<string, unknown> {
  const { dispatched, dispatchedAt, ...rest } = toJobDocument(next, retentionMs);
  const { _id: _ignored, ...set } = rest;
  const update: Record<string, unknown> = { $set: set, $max: { dispatched } };
  if (dispatchedAt) update['$min'] = { dispatchedAt };
  const unset: Record<string, ''> = {};
  if (!next.deadlineAt) unset['deadlineAt'] = '';
  if (!isTerminal(next.status)) unset['purgeAt'] = '';
  if (Object.keys(unset).length > 0) update['$unset'] = unset;
  return update;
}

export function listFilter(query: ListJobsQuery): Record<string, unknown> {
  const filter: Record<string, unknown> = { tenantId: query.tenantId };
  if (query.status) filter['status'] = query.status;
  if (query.model) filter['model'] = query.model;
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    const at = new Date(after.createdAt);
    filter['$or'] = [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: after.id } }];
  }
  return filter;
}

export const LIST_SORT = { createdAt: -1, _id: -1 } as const;

export function dueFilter(query: DueQuery): Record<string, unknown> {
  const filter: Record<string, unknown> = { status: query.status };
  if (query.deadlineBefore) filter['deadlineAt'] = { $lt: query.deadlineBefore };
  const updated: Record<string, string> = {};
  if (query.updatedBefore) updated['$lt'] = query.updatedBefore.toISOString();
  if (query.updatedAfter) updated['$gt'] = query.updatedAfter.toISOString();
  if (Object.keys(updated).length > 0) filter['updatedAt'] = updated;
  if (query.neverStarted) filter['attempts'] = 0;
  if (query.dispatched !== undefined) filter['dispatched'] = query.dispatched ? 1 : 0;
  return filter;
}

export const DUE_SORT = { deadlineAt: 1, updatedAt: 1 } as const;

/** Per tenant of the lane: held, dispatched and running jobs. */
export function laneLoadPipeline(lane: string): Record<string, unknown>[] {
  const count = (cond: unknown) => ({ $sum: { $cond: [cond, 1, 0] } });
  const queued = { $eq: ['$status', 'queued'] };
  return [
    { $match: { lane, status: { $in: ['queued', 'running'] } } },
    {
      $group: {
        _id: '$tenantId',
        held: count({ $and: [queued, { $eq: ['$dispatched', 0] }] }),
        dispatched: count({ $and: [queued, { $eq: ['$dispatched', 1] }] }),
        running: count({ $eq: ['$status', 'running'] }),
      },
    },
  ];
}

export const HELD_SORT = { priorityRank: 1, createdAt: 1, _id: 1 } as const;

/** Adds `delta` to a usage total, never below zero, creating the document when missing (an update pipeline). */
export function usageUpdate(tenantId: string, day: string, delta: number): Record<string, unknown>[] {
  return [
    {
      $set: {
        tenantId,
        day,
        amount: { $max: [0, { $add: [{ $ifNull: ['$amount', 0] }, delta] }] },
      },
    },
  ];
}

export function usageId(tenantId: string, day: string): string {
  return `${tenantId}|${day}`;
}

/** MongoDB's duplicate key error (a unique index refused the write). */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}
