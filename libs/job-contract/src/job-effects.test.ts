import { describe, expect, it } from 'vitest';
import type { Job } from './job';
import { effectsOf } from './job-effects';

const base: Job = {
  id: 'j1',
  tenantId: 't1',
  model: 'ocr-en',
  lane: 'small-gpu',
  status: 'running',
  priority: 'normal',
  attempts: 1,
  maxAttempts: 3,
  inputRef: 'inputs/j1',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  cost: { day: '2026-01-01', reserved: 2 },
};

describe('effectsOf', () => {
  it('settles usage only when the job ends', () => {
    expect(effectsOf(base, { ...base, progress: { stage: 'detection' } })).toEqual({});
    const done = { ...base, status: 'succeeded' as const, cost: { ...base.cost!, charged: 0.5 } };
    expect(effectsOf(base, done).usage).toEqual({ tenantId: 't1', day: '2026-01-01', delta: -1.5 });
    expect(effectsOf(done, done).usage).toBeUndefined();
    expect(effectsOf({ ...base, status: 'queued' }, { ...base, status: 'cancelled', cost: { ...base.cost!, charged: 0 } }).usage).toEqual({
      tenantId: 't1',
      day: '2026-01-01',
      delta: -2,
    });
  });

  it('records a webhook delivery for subscribed statuses, terminal ones by default', () => {
    const hooked = { ...base, webhook: { url: 'https://example.com/hook' } };
    expect(effectsOf(hooked, { ...hooked, status: 'queued', attempts: 1 }).webhook).toBeUndefined();
    const done = effectsOf(hooked, { ...hooked, status: 'succeeded', result: { ok: 1 } }).webhook;
    expect(done).toMatchObject({ id: 'j1.succeeded.1', type: 'job.succeeded', url: 'https://example.com/hook', tenantId: 't1' });
    expect(JSON.parse(done!.payload)).toMatchObject({ type: 'job.succeeded', data: { id: 'j1', status: 'succeeded', result: { ok: 1 } } });
    expect(JSON.parse(done!.payload).data.tenantId).toBeUndefined();

    const running = { ...base, status: 'queued' as const, attempts: 0, webhook: { url: 'https://x.test/h', events: ['running' as const] } };
    expect(effectsOf(running, { ...running, status: 'running', attempts: 1 }).webhook?.id).toBe('j1.running.1');
    // progress within the same attempt is not a status event
    const started = { ...running, status: 'running' as const, attempts: 1 };
    expect(effectsOf(started, { ...started, progress: { stage: 's' } }).webhook).toBeUndefined();
    expect(effectsOf(started, { ...started, status: 'succeeded' }).webhook).toBeUndefined();
  });
});
