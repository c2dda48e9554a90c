import { describe, expect, it } from 'vitest';
import { admit, rejection, type SubmitRequest, type TenantUsage } from './policy';
import type { TenantLimits } from './tenants';

const limits: TenantLimits = {
  models: ['ocr-en'],
  maxInputBytes: 1000,
  maxConcurrentJobs: 3,
  requestsPerMinute: 60,
  dailyBudget: 10,
};
const at = new Date('2026-03-01T23:59:00.000Z');
const request: SubmitRequest = { model: 'ocr-en', inputBytes: 1000, cost: 2, at };
const idle: TenantUsage = { activeJobs: 0, budgetUsed: 0 };

describe('admit', () => {
  it('allows a request within every limit, with the budget day and cost to reserve', () => {
    expect(admit(request, limits, idle)).toEqual({ allowed: true, day: '2026-03-01', cost: 2 });
    expect(admit(request, limits, { activeJobs: 2, budgetUsed: 8 })).toMatchObject({ allowed: true });
    expect(admit({ ...request, model: 'anything' }, { ...limits, models: ['*'] }, idle)).toMatchObject({ allowed: true });
  });

  it.each([
    ['model', { ...request, model: 'other' }, idle, 'model_not_allowed', undefined],
    ['inputSize', { ...request, inputBytes: 1001 }, idle, 'payload_too_large', undefined],
    ['concurrency', request, { activeJobs: 3, budgetUsed: 0 }, 'concurrency_limited', 5],
    ['budget', request, { activeJobs: 0, budgetUsed: 8.5 }, 'budget_exceeded', 60],
  ] as const)('rejects on %s with its code and retry hint', (limit, req, usage, code, retryAfterSeconds) => {
    const d = admit(req, limits, usage);
    expect(d).toMatchObject({ allowed: false, limit, code });
    if (!d.allowed) {
      expect(d.retryAfterSeconds).toBe(retryAfterSeconds);
      expect(d.detail.length).toBeGreaterThan(10);
    }
  });

  it('checks in a fixed order: model, size, concurrency, budget', () => {
    const everything = admit({ ...request, model: 'other', inputBytes: 5000 }, limits, { activeJobs: 9, budgetUsed: 99 });
    expect(everything).toMatchObject({ limit: 'model' });
    expect(admit({ ...request, inputBytes: 5000 }, limits, { activeJobs: 9, budgetUsed: 99 })).toMatchObject({ limit: 'inputSize' });
    expect(admit(request, limits, { activeJobs: 9, budgetUsed: 99 })).toMatchObject({ limit: 'concurrency' });
  });

  it('a zero-cost job passes a spent budget; a budget of exactly the cost passes', () => {
    expect(admit({ ...request, cost: 0 }, limits, { activeJobs: 0, budgetUsed: 10 })).toMatchObject({ allowed: true });
    expect(admit(request, limits, { activeJobs: 0, budgetUsed: 8 })).toMatchObject({ allowed: true });
  });

  it('rate rejections say when to retry', () => {
    expect(rejection('rate', limits, idle, request)).toMatchObject({ code: 'rate_limited', retryAfterSeconds: 1 });
  });
});
