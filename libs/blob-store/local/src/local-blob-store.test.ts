import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAll } from '@gpu-jobs/blob-store';
import { describeBlobStoreContract } from '@gpu-jobs/blob-store/testing';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local-blob-store';

describeBlobStoreContract({
  name: 'local directory',
  factoryModule: fileURLToPath(new URL('./local-blob-store.factory.ts', import.meta.url)),
});

describe('LocalBlobStore', () => {
  const dir = makeTempDir('blob-local-');
  afterAll(() => dir.remove());

  it('a reader that opened a blob keeps its version while the blob is replaced', async () => {
    const store = LocalBlobStore.open({ dataDir: dir.path });
    const before = Buffer.alloc(1 << 20, 1);
    await store.put('snap', before, { contentType: 'application/octet-stream' });
    const reading = await store.get('snap');
    await store.put('snap', Buffer.alloc(10, 2), { contentType: 'application/octet-stream' });
    expect((await readAll(reading.body)).equals(before)).toBe(true);
    expect((await store.head('snap'))?.size).toBe(10);
  });

  it('leaves no temp files after failed writes, and sweeps old ones', async () => {
    const store = LocalBlobStore.open({ dataDir: dir.path });
    await expect(
      store.put(
        'x',
        (async function* () {
          yield Buffer.from('a');
          throw new Error('boom');
        })(),
        { contentType: 'text/plain' },
      ),
    ).rejects.toThrow('boom');
    expect(readdirSync(join(dir.path, 'blobs', 'tmp'))).toEqual([]);
    expect(store.sweepTemp(0)).toBe(0);
  });
});
