import { fileURLToPath } from 'node:url';
import { describeTaskStoreContract, sampleJob } from '@gpu-jobs/task-store/testing';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '@gpu-jobs/task-store';
import { transition, versionOf, type JobEvent } from '@gpu-jobs/job-contract';
import { casFilter, casUpdate, dueFilter, laneLoadPipeline, listFilter, toJobDocument, usageUpdate } from './documents';

// The shared contract, against a real MongoDB (a replica set: transactions need one) when MONGODB_URI is set.
describeTaskStoreContract({
  name: 'MongoDB',
  factoryModule: fileURLToPath(new URL('./mongo-task-store.factory.ts', import.meta.url)),
  ...(process.env['MONGODB_URI'] ? {} : { skipReason: 'MONGODB_URI is not set (no MongoDB server is reachable here)' }),
});

const day = 86_400_000;

describe('MongoDB documents and queries', () => {
  it('maps a job to its document and back, with typed index fields', () => {
    const job = sampleJob({
      priority: 'high',
      deadlineAt: '2026-02-01T00:00:00.000Z',
      dispatchedAt: '2026-01-01T00:00:01.000Z',
    });
    const doc = toJobDocument(job, day);
    expect(doc).toEqual({
      _id: job.id,
      tenantId: job.tenantId,
      model: job.model,
      lane: job.lane,
      status: 'queued',
      attempts: 0,
      updatedAt: job.updatedAt,
      createdAt: new Date(job.createdAt),
      deadlineAt: new Date('2026-02-01T00:00:00.000Z'),
      dispatched: 1,
      dispatchedAt: new Date('2026-01-01T00:00:01.000Z'),
      priorityRank: 0,
      job,
    });
    expect(toJobDocument({ ...job, dispatchedAt: undefined } as never, day)).toMatchObject({ dispatched: 0 });
    const done = toJobDocument({ ...job, status: 'succeeded', finishedAt: '2026-01-02T00:00:00.000Z' }, day);
    expect(done.purgeAt).toEqual(new Date('2026-01-03T00:00:00.000Z'));
  });

  it('a transition filters on the version read and never takes dispatch back', () => {
    expect(casFilter('j1', { status: 'queued', attempts: 0, updatedAt: 't0' })).toEqual({
      _id: 'j1',
      status: 'queued',
      attempts: 0,
      updatedAt: 't0',
    });
    const running = sampleJob({ status: 'running', attempts: 1, updatedAt: '2026-01-01T00:00:09.000Z' });
    const update = casUpdate(running, day);
    expect(update).toMatchObject({
      $set: { status: 'running', attempts: 1, updatedAt: '2026-01-01T00:00:09.000Z', job: running },
      $max: { dispatched: 0 },
      $unset: { deadlineAt: '', purgeAt: '' },
    });
    expect((update['$set'] as Record<string, unknown>)['dispatched']).toBeUndefined();
    expect((update['$set'] as Record<string, unknown>)['_id']).toBeUndefined();
    const released = casUpdate({ ...running, dispatchedAt: '2026-01-01T00:00:05.000Z' }, day);
    expect(released).toMatchObject({ $max: { dispatched: 1 }, $min: { dispatchedAt: new Date('2026-01-01T00:00:05.000Z') } });
    const finished = casUpdate({ ...running, status: 'failed', finishedAt: '2026-01-01T00:00:10.000Z' }, day);
    expect((finished['$set'] as Record<string, unknown>)['purgeAt']).toEqual(new Date('2026-01-02T00:00:10.000Z'));
    expect(finished['$unset']).toEqual({ deadlineAt: '' });
  });

  it('every transition of the lifecycle is one filter on the version read and one update to the state computed', () => {
    const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms);
    let job = sampleJob({ createdAt: at(0).toISOString(), updatedAt: at(0).toISOString() });
    const events: JobEvent[] = [
      { type: 'dispatch', at: at(1) },
      { type: 'start', at: at(2), workerId: 'w1' },
      { type: 'progress', at: at(3), progress: { stage: 'detection' } },
      { type: 'fail', at: at(4), error: { code: 'worker_lost', message: 'lost', retryable: true } },
      { type: 'start', at: at(5), workerId: 'w2' },
      { type: 'succeed', at: at(6), result: { text: 'hi' } },
    ];
    for (const event of events) {
      const r = transition(job, event);
      if (!r.ok) throw r.error;
      expect(casFilter(job.id, versionOf(job))).toEqual({
        _id: job.id,
        status: job.status,
        attempts: job.attempts,
        updatedAt: job.updatedAt,
      });
      const update = casUpdate(r.job, day) as { $set: Record<string, unknown>; $max: Record<string, unknown> };
      expect(update.$set).toMatchObject({ status: r.job.status, attempts: r.job.attempts, updatedAt: r.job.updatedAt, job: r.job });
      expect(update.$max).toEqual({ dispatched: 1 }); // released at the first event, never taken back
      job = r.job;
    }
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('lists newest first from a cursor, with the filters given', () => {
    const cursor = encodeCursor({ createdAt: Date.parse('2026-01-01T00:00:00.000Z'), id: 'j9' });
    expect(listFilter({ tenantId: 't', limit: 10, status: 'queued', model: 'm', cursor })).toEqual({
      tenantId: 't',
      status: 'queued',
      model: 'm',
      $or: [
        { createdAt: { $lt: new Date('2026-01-01T00:00:00.000Z') } },
        { createdAt: new Date('2026-01-01T00:00:00.000Z'), _id: { $lt: 'j9' } },
      ],
    });
    expect(() => listFilter({ tenantId: 't', limit: 1, cursor: 'garbage' })).toThrow(/cursor/);
  });

  it('finds due jobs for the sweeper and the repair pass', () => {
    const at = new Date('2026-01-01T00:00:00.000Z');
    expect(dueFilter({ status: 'queued', deadlineBefore: at, limit: 5 })).toEqual({ status: 'queued', deadlineAt: { $lt: at } });
    expect(
      dueFilter({ status: 'queued', updatedBefore: at, updatedAfter: new Date(0), neverStarted: true, dispatched: true, limit: 5 }),
    ).toEqual({
      status: 'queued',
      updatedAt: { $lt: at.toISOString(), $gt: new Date(0).toISOString() },
      attempts: 0,
      dispatched: 1,
    });
  });

  it('counts a lane per tenant in one aggregation, and adds usage never below zero', () => {
    expect(laneLoadPipeline('small-gpu')[0]).toEqual({ $match: { lane: 'small-gpu', status: { $in: ['queued', 'running'] } } });
    expect(JSON.stringify(laneLoadPipeline('small-gpu')[1])).toContain('"$dispatched",0');
    expect(usageUpdate('t', '2026-01-01', -3)).toEqual([
      { $set: { tenantId: 't', day: '2026-01-01', amount: { $max: [0, { $add: [{ $ifNull: ['$amount', 0] }, -3] }] } } },
    ]);
  });
});
