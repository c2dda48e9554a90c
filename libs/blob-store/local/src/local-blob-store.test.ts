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

  it('keeps small blobs as rows and large ones as files, and a key can move between them', async () => {
    const store = LocalBlobStore.open({ dataDir: dir.path });
    const files = () => readdirSync(join(dir.path, 'blobs', 'objects')).length;
    const before = files();
    await store.put('moves', Buffer.alloc(100, 1), { contentType: 'a/small' });
    expect(files()).toBe(before);
    await store.put('moves', Buffer.alloc(400_000, 2), { contentType: 'a/large' });
    expect(files()).toBe(before + 1);
    expect(await store.head('moves')).toMatchObject({ size: 400_000, contentType: 'a/large' });
    await store.put('moves', Buffer.alloc(10, 3), { contentType: 'a/small' });
    expect(files()).toBe(before);
    expect((await readAll((await store.get('moves')).body)).equals(Buffer.alloc(10, 3))).toBe(true);
    expect(await store.delete('moves')).toBe(true);
    expect(await store.exists('moves')).toBe(false);
    await store.close();
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
