import { describe, expect, it } from 'vitest';
import {
  Job,
  JobMessage,
  ModelRegistry,
  NamedTensor,
  PROBLEM_CODES,
  SchemaValidationError,
  fieldErrors,
  parse,
  problem,
  tensorSizeMatches,
} from './index';

describe('schemas', () => {
  it('a queue message carries references only', () => {
    const msg = { jobId: 'j', tenantId: 't', model: 'm', lane: 'l', inputRef: 'inputs/j', priority: 'normal', attempt: 0 };
    expect(parse(JobMessage, msg)).toEqual(msg);
    expect(() => parse(JobMessage, { ...msg, input: { image: 'AAAA' } })).toThrow(SchemaValidationError);
  });

  it('names every failing field, without the value', () => {
    try {
      const valid = {
        id: 'j',
        tenantId: 't',
        model: 'm',
        lane: 'l',
        status: 'queued',
        priority: 'normal',
        attempts: 0,
        maxAttempts: 1,
        inputRef: 'i',
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      };
      expect(parse(Job, valid)).toEqual(valid);
      expect(fieldErrors(Job, { ...valid, status: 'done' }).map((f) => f.path)).toEqual(['/status']);
      parse(Job, { ...valid, id: '', createdAt: 'yesterday' }, 'Job');
      expect.unreachable();
    } catch (err) {
      const e = err as SchemaValidationError;
      expect(e.schemaName).toBe('Job');
      const paths = e.errors.map((f) => f.path);
      expect(paths.sort()).toEqual(['/createdAt', '/id']);
      expect(e.message).not.toContain('yesterday');
    }
  });

  it('checks formats', () => {
    expect(
      fieldErrors(JobMessage, {
        jobId: 'j',
        tenantId: 't',
        model: 'm',
        lane: 'l',
        inputRef: 'r',
        priority: 'low',
        attempt: 0,
        deadline: 'soon',
      }),
    ).toHaveLength(1);
  });

  it('rejects a model entry without limits', () => {
    const registry = {
      models: [
        {
          id: 'ocr',
          description: 'x',
          runner: 'ocr',
          lane: 'small-gpu',
          weights: { files: {} },
          input: { kind: 'image', maxBytes: 10 },
          costUnits: 1,
        },
      ],
    };
    expect(fieldErrors(ModelRegistry, registry)).toContainEqual({ path: '/models/0/limits', message: 'is required' });
  });

  it('tensors: shape and data agree', () => {
    const t = parse(NamedTensor, { name: 'x', datatype: 'float32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] });
    expect(tensorSizeMatches(t)).toBe(true);
    expect(tensorSizeMatches({ ...t, shape: [4] })).toBe(false);
  });
});

describe('problems', () => {
  it('every code has a 4xx or 5xx status and a title', () => {
    for (const [code, { status, title }] of Object.entries(PROBLEM_CODES)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(title.length, code).toBeGreaterThan(0);
      expect(code).toMatch(/^[a-z_]+$/);
    }
  });

  it('builds an RFC 9457 document with the stable code', () => {
    expect(problem('job_not_found', { detail: 'no job j1' })).toEqual({
      type: 'urn:gpu-jobs:problem:job_not_found',
      title: 'No such job',
      status: 404,
      code: 'job_not_found',
      detail: 'no job j1',
    });
  });
});
