import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blob-store';
import { BlobNotFoundError, BlobTooLargeError, InvalidBlobKeyError } from '../errors';
import { readAll } from '../read-all';

/** A module whose default export opens the adapter. */
export type BlobStoreFactory = (options: { dataDir: string }) => Promise<BlobStore>;

export interface BlobStoreContractOptions {
  name: string;
  factoryModule: string;
  /** When set, the suite is skipped and this reason printed once. */
  skipReason?: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The behaviour every BlobStore adapter must have, written once. */
export function describeBlobStoreContract(options: BlobStoreContractOptions): void {
  if (options.skipReason) {
    describe.skip(`BlobStore contract: ${options.name}`, () => it('skipped', () => undefined));
    console.warn(`[contract] SKIPPED BlobStore contract for ${options.name}: ${options.skipReason}`);
    return;
  }

  describe(`BlobStore contract: ${options.name}`, () => {
    const dir = makeTempDir('blob-contract-');
    let factory: BlobStoreFactory;
    let store: BlobStore;
    let prefix: string;

    beforeAll(async () => {
      factory = ((await import(options.factoryModule)) as { default: BlobStoreFactory }).default;
    });
    beforeEach(async () => {
      store = await factory({ dataDir: dir.path });
      prefix = `contract/${Math.random().toString(36).slice(2, 10)}`;
    });
    afterEach(async () => store.close());
    afterAll(() => dir.remove());

    it('stores a buffer and returns it with size, sha256 and content type', async () => {
      const data = randomBytes(70_000);
      const meta = await store.put(`${prefix}/a.bin`, data, { contentType: 'image/png' });
      expect(meta).toMatchObject({ key: `${prefix}/a.bin`, size: data.length, sha256: sha256(data), contentType: 'image/png' });
      expect(meta.createdAt).toBeInstanceOf(Date);
      const got = await store.get(`${prefix}/a.bin`);
      expect(got.metadata).toMatchObject({ size: data.length, sha256: sha256(data), contentType: 'image/png' });
      expect((await readAll(got.body)).equals(data)).toBe(true);
      expect(await store.head(`${prefix}/a.bin`)).toMatchObject({ size: data.length, sha256: sha256(data) });
      expect(await store.exists(`${prefix}/a.bin`)).toBe(true);
    });

    it('stores a large buffer (megabytes) intact', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 7);
      const meta = await store.put(`${prefix}/large.bin`, data, { contentType: 'application/octet-stream' });
      expect(meta).toMatchObject({ size: data.length, sha256: sha256(data) });
      expect((await readAll((await store.get(`${prefix}/large.bin`)).body)).equals(data)).toBe(true);
    });

    it('stores a stream', async () => {
      const chunks = [Buffer.from('hello '), Buffer.from('streaming '), Buffer.from('world')];
      const meta = await store.put(`${prefix}/s.txt`, Readable.from(chunks), { contentType: 'text/plain' });
      const all = Buffer.concat(chunks);
      expect(meta).toMatchObject({ size: all.length, sha256: sha256(all) });
      expect((await readAll((await store.get(`${prefix}/s.txt`)).body)).toString()).toBe('hello streaming world');
    });

    it('stores an empty blob', async () => {
      await store.put(`${prefix}/empty`, Buffer.alloc(0), { contentType: 'application/octet-stream' });
      const got = await store.get(`${prefix}/empty`);
      expect(got.metadata.size).toBe(0);
      expect((await readAll(got.body)).length).toBe(0);
    });

    it('a missing blob: get throws, head is undefined, delete is false', async () => {
      await expect(store.get(`${prefix}/nope`)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await store.head(`${prefix}/nope`)).toBeUndefined();
      expect(await store.exists(`${prefix}/nope`)).toBe(false);
      expect(await store.delete(`${prefix}/nope`)).toBe(false);
    });

    it('overwrites and deletes', async () => {
      await store.put(`${prefix}/k`, Buffer.from('one'), { contentType: 'text/plain' });
      await store.put(`${prefix}/k`, Buffer.from('two!'), { contentType: 'application/json' });
      const got = await store.get(`${prefix}/k`);
      expect(got.metadata).toMatchObject({ size: 4, contentType: 'application/json' });
      expect((await readAll(got.body)).toString()).toBe('two!');
      expect(await store.delete(`${prefix}/k`)).toBe(true);
      expect(await store.exists(`${prefix}/k`)).toBe(false);
    });

    it('keys that are also prefixes of other keys coexist', async () => {
      await store.put(`${prefix}/x`, Buffer.from('parent'), { contentType: 'text/plain' });
      await store.put(`${prefix}/x/y`, Buffer.from('child'), { contentType: 'text/plain' });
      expect((await readAll((await store.get(`${prefix}/x`)).body)).toString()).toBe('parent');
      expect((await readAll((await store.get(`${prefix}/x/y`)).body)).toString()).toBe('child');
    });

    it.each(['../escape', '/abs/path', 'a//b', 'a/../b', ''])('refuses the key %j on every operation', async (key) => {
      await expect(store.put(key, Buffer.from('x'), { contentType: 'text/plain' })).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.head(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    });

    it('refuses content past maxBytes and stores nothing', async () => {
      const source = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
      await expect(store.put(`${prefix}/big`, source, { contentType: 'image/png', maxBytes: 1000 })).rejects.toBeInstanceOf(
        BlobTooLargeError,
      );
      expect(await store.exists(`${prefix}/big`)).toBe(false);
    });

    it('a source that fails midway stores nothing and leaves an older version intact', async () => {
      await store.put(`${prefix}/f`, Buffer.from('old'), { contentType: 'text/plain' });
      async function* failing() {
        yield Buffer.from('partial');
        throw new Error('client went away');
      }
      await expect(store.put(`${prefix}/f`, failing(), { contentType: 'text/plain' })).rejects.toThrow('client went away');
      expect((await readAll((await store.get(`${prefix}/f`)).body)).toString()).toBe('old');
      await expect(store.put(`${prefix}/g`, failing(), { contentType: 'text/plain' })).rejects.toThrow();
      expect(await store.exists(`${prefix}/g`)).toBe(false);
    });

    it('a download link, when the store gives one, reads the blob', async () => {
      await store.put(`${prefix}/linked`, Buffer.from('by link'), { contentType: 'text/plain' });
      const url = await store.downloadUrl(`${prefix}/linked`, 60);
      if (url === undefined) return; // this store streams through the gateway instead
      expect(await (await fetch(url)).text()).toBe('by link');
      await expect(store.downloadUrl('../x', 60)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    });

    it('keeps blobs across close and reopen', async () => {
      await store.put(`${prefix}/durable`, Buffer.from('still here'), { contentType: 'text/plain' });
      await store.close();
      store = await factory({ dataDir: dir.path });
      expect((await readAll((await store.get(`${prefix}/durable`)).body)).toString()).toBe('still here');
    });
  });
}
