import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  assertValidBlobKey,
  type BlobBody,
  type BlobMetadata,
  type BlobStore,
  type PutOptions,
} from '@gpu-jobs/blob-store';

export interface LocalBlobStoreOptions {
  /** Folder of the platform's data; blobs live in `<dataDir>/blobs`. */
  dataDir: string;
  /** fsync each blob before it becomes visible (survives power loss). Default true. */
  fsync?: boolean;
}

interface Trailer {
  key: string;
  sha256: string;
  contentType: string;
  createdAt: string;
}

const TRAILER_LENGTH_BYTES = 4;

/**
 * Blobs in a local directory, one file each: the content, then a JSON trailer with the metadata, then
 * the trailer's length. Data and metadata become visible together with one rename, so a reader sees
 * the old blob or the new, never a mix; a reader holding the file open keeps its version even if the
 * blob is replaced meanwhile. File names are the SHA-256 of the key, so any valid key maps to one
 * flat, safe path, and `a` and `a/b` can both exist.
 */
export class LocalBlobStore implements BlobStore {
  private readonly objects: string;
  private readonly tmp: string;
  private readonly fsync: boolean;

  private constructor(options: LocalBlobStoreOptions) {
    const root = join(options.dataDir, 'blobs');
    this.objects = join(root, 'objects');
    this.tmp = join(root, 'tmp');
    this.fsync = options.fsync ?? true;
    mkdirSync(this.objects, { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
  }

  static open(options: LocalBlobStoreOptions): LocalBlobStore {
    return new LocalBlobStore(options);
  }

  /** Removes temp files older than `olderThanMs` left by a process that died mid-write. */
  sweepTemp(olderThanMs = 3_600_000): number {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of readdirSync(this.tmp)) {
      const [stamp] = name.split('-');
      if (Number(stamp) < cutoff) {
        rmSync(join(this.tmp, name), { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  async put(key: string, body: BlobBody, options: PutOptions): Promise<BlobMetadata> {
    assertValidBlobKey(key);
    const temp = join(this.tmp, `${Date.now()}-${randomUUID()}`);
    const fh = await open(temp, 'wx');
    try {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of toChunks(body)) {
        size += chunk.length;
        if (options.maxBytes !== undefined && size > options.maxBytes) throw new BlobTooLargeError(options.maxBytes);
        hash.update(chunk);
        await fh.write(chunk);
      }
      const createdAt = new Date();
      const trailer: Trailer = { key, sha256: hash.digest('hex'), contentType: options.contentType, createdAt: createdAt.toISOString() };
      const json = Buffer.from(JSON.stringify(trailer));
      const length = Buffer.alloc(TRAILER_LENGTH_BYTES);
      length.writeUInt32BE(json.length);
      await fh.write(Buffer.concat([json, length]));
      if (this.fsync) await fh.sync();
      await fh.close();
      await rename(temp, this.pathOf(key));
      return { key, size, sha256: trailer.sha256, contentType: trailer.contentType, createdAt };
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<{ metadata: BlobMetadata; body: Readable }> {
    const fh = await this.openBlob(key);
    if (!fh) throw new BlobNotFoundError(key);
    try {
      const metadata = await readMetadata(fh);
      if (metadata.size === 0) {
        await fh.close();
        return { metadata, body: Readable.from([]) };
      }
      return { metadata, body: fh.createReadStream({ start: 0, end: metadata.size - 1, autoClose: true }) };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async head(key: string): Promise<BlobMetadata | undefined> {
    const fh = await this.openBlob(key);
    if (!fh) return undefined;
    try {
      return await readMetadata(fh);
    } finally {
      await fh.close();
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  async delete(key: string): Promise<boolean> {
    assertValidBlobKey(key);
    try {
      await unlink(this.pathOf(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    // nothing held open between calls
  }

  private pathOf(key: string): string {
    return join(this.objects, createHash('sha256').update(key).digest('hex'));
  }

  private async openBlob(key: string): Promise<FileHandle | undefined> {
    assertValidBlobKey(key);
    try {
      return await open(this.pathOf(key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

async function readMetadata(fh: FileHandle): Promise<BlobMetadata> {
  const { size: fileSize } = await fh.stat();
  const lengthBuf = Buffer.alloc(TRAILER_LENGTH_BYTES);
  await fh.read(lengthBuf, 0, TRAILER_LENGTH_BYTES, fileSize - TRAILER_LENGTH_BYTES);
  const trailerLength = lengthBuf.readUInt32BE();
  const json = Buffer.alloc(trailerLength);
  const dataSize = fileSize - TRAILER_LENGTH_BYTES - trailerLength;
  await fh.read(json, 0, trailerLength, dataSize);
  const trailer = JSON.parse(json.toString('utf8')) as Trailer;
  return {
    key: trailer.key,
    size: dataSize,
    sha256: trailer.sha256,
    contentType: trailer.contentType,
    createdAt: new Date(trailer.createdAt),
  };
}

async function* toChunks(body: BlobBody): AsyncIterable<Buffer> {
  if (body instanceof Uint8Array) {
    yield Buffer.isBuffer(body) ? body : Buffer.from(body);
    return;
  }
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
  }
}
