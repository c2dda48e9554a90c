import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaVersionError } from '@gpu-jobs/embedded-sqlite';
import { sampleJob } from '@gpu-jobs/task-store/testing';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedTaskStore } from './embedded-task-store';
import { TASK_STORE_MIGRATIONS } from './schema';

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

  it('migrates a version-1 file: existing jobs keep their lane and count as dispatched', async () => {
    const path = join(dir.path, 'v1');
    mkdirSync(path);
    const raw = new DatabaseSync(join(path, 'tasks.db'));
    raw.exec(TASK_STORE_MIGRATIONS[0] as string);
    raw.exec('PRAGMA user_version = 1');
    const old = sampleJob({ lane: 'large-gpu', priority: 'high' });
    raw
      .prepare(
        'INSERT INTO jobs (id, tenant_id, model, status, attempts, updated_at, created_ms, deadline_ms, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(old.id, old.tenantId, old.model, old.status, old.attempts, old.updatedAt, Date.parse(old.createdAt), null, JSON.stringify(old));
    raw.close();
    const store = EmbeddedTaskStore.open({ dataDir: path });
    expect(await store.get(old.id)).toEqual(old);
    expect(await store.laneLoad('large-gpu')).toMatchObject({ held: 0, dispatched: 1 });
    await store.close();
  });
});
