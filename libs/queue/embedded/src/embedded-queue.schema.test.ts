import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { SchemaVersionError } from '@gpu-jobs/embedded-sqlite';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedQueue } from './embedded-queue';

const dir = makeTempDir('queue-schema-');
afterAll(() => dir.remove());

describe('EmbeddedQueue schema version', () => {
  it('refuses a queue file written by a newer build', async () => {
    const q = EmbeddedQueue.open({ dataDir: dir.path });
    await q.close();
    const raw = new DatabaseSync(join(dir.path, 'queue.db'));
    raw.exec('PRAGMA user_version = 99');
    raw.close();
    expect(() => EmbeddedQueue.open({ dataDir: dir.path })).toThrow(SchemaVersionError);
  });
});
