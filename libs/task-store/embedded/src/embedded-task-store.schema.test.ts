import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { SchemaVersionError } from '@gpu-jobs/embedded-sqlite';
import { sampleJob } from '@gpu-jobs/task-store/testing';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedTaskStore } from './embedded-task-store';

const dir = makeTempDir('tasks-schema-');
afterAll(() => dir.remove());

describe('EmbeddedTaskStore', () => {
  it('refuses a file written by a newer build', async () => {
    await EmbeddedTaskStore.open({ dataDir: dir.path }).close();
    const raw = new DatabaseSync(join(dir.path, 'tasks.db'));
    raw.exec('PRAGMA user_version = 42');
    raw.close();
    expect(() => EmbeddedTaskStore.open({ dataDir: `${dir.path}` })).toThrow(SchemaVersionError);
  });

  it('prunes expired idempotency keys', async () => {
    const store = EmbeddedTaskStore.open({ dataDir: join(dir.path, 'prune') });
    await store.create(sampleJob({ idempotencyKey: 'a' }), { idempotency: { requestHash: 'h', expiresAt: new Date(Date.now() - 1) } });
    await store.create(sampleJob({ idempotencyKey: 'b' }), { idempotency: { requestHash: 'h', expiresAt: new Date(Date.now() + 60_000) } });
    expect(await store.pruneIdempotencyKeys()).toBe(1);
    await store.close();
  });
});
