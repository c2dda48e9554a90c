import { renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { TenantRegistry, TenantsFileError } from './tenant-registry';

const dir = makeTempDir('tenants-');
afterAll(() => dir.remove());
const defaults = { models: ['*'], maxInputBytes: 1000, maxConcurrentJobs: 5, requestsPerMinute: 60, dailyBudget: 100 };

function write(name: string, content: unknown): string {
  const path = join(dir.path, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('TenantRegistry', () => {
  it('fills in defaults and weights', () => {
    const path = write('ok.json', { defaults, tenants: { acme: { weight: 2, limits: { dailyBudget: 5 } }, dev: {} } });
    const registry = TenantRegistry.load(path);
    expect(registry.get('acme')).toEqual({ id: 'acme', weight: 2, limits: { ...defaults, dailyBudget: 5 } });
    expect(registry.get('dev')?.weight).toBe(1);
    expect(registry.get('nobody')).toBeUndefined();
  });

  it('names the field of an invalid file', () => {
    const path = write('bad.json', { defaults, tenants: { acme: { limits: { maxConcurrentJobs: 0 } } } });
    expect(() => TenantRegistry.load(path)).toThrow(TenantsFileError);
    expect(() => TenantRegistry.load(path)).toThrow(/tenants\/acme\/limits\/maxConcurrentJobs/);
    expect(() => TenantRegistry.load(write('notjson.json', '{'))).toThrow(/cannot read/);
  });

  it('reloads on change without a restart and keeps the last good version on a bad edit', async () => {
    const path = write('live.json', { defaults, tenants: { acme: {} } });
    const registry = TenantRegistry.load(path);
    const events: (string | undefined)[] = [];
    const stop = registry.watch((err) => events.push(err?.message), 50);
    try {
      // written aside and renamed into place, as config tools and ConfigMap updates do: one change per edit
      const touch = (content: unknown, secondsAhead: number) => {
        const aside = write('live.json.tmp', content);
        const t = new Date(Date.now() + secondsAhead * 1000);
        utimesSync(aside, t, t);
        renameSync(aside, path);
      };
      touch({ defaults, tenants: { acme: {}, beta: { limits: { dailyBudget: 1 } } } }, 1);
      await expect.poll(() => registry.get('beta')?.limits.dailyBudget, { timeout: 15_000 }).toBe(1);
      const reloads = registry.reloads;
      touch('{ not json', 2);
      await expect.poll(() => events.at(-1) ?? '', { timeout: 15_000 }).toMatch(/cannot read/);
      expect(registry.get('beta')).toBeDefined();
      expect(registry.reloads).toBe(reloads);
    } finally {
      stop();
    }
  });
});
