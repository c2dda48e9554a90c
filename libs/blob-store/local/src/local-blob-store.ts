import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { openDatabase } from '@gpu-jobs/embedded-sqlite';
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

interface SmallRow {
  data: Uint8Array;
  sha256: string;
  content_type: string;
  created_at: number;
}

/** Blobs up to this size live in blobs.db: creating a file costs far more than a row (see BENCHMARKS.md). */
const SMALL_BLOB_BYTES = 256 * 1024;

const BLOB_MIGRATIONS = [
  `CREATE TABLE small_blobs (
     key TEXT PRIMARY KEY,
     data BLOB NOT NULL,
     sha256 TEXT NOT NULL,
     content_type TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID`,
];

interface Trailer {
  key: string;
  sha256: string;
  contentType: string;
  createdAt: string;
}

const TRAILER_LENGTH_BYTES = 4;

/**
 * Blobs in a local directory. Small ones (job inputs, most results) are rows of `blobs.db` (SQLite, WAL):
 * one write, atomic. Larger ones are files, one each: the content, then a JSON trailer with the metadata,
 * then the trailer's length. Data and metadata become visible together with one rename, so a reader sees
 * the old blob or the new, never a mix; a reader holding the file open keeps its version even if the
 * blob is replaced meanwhile. File names are the SHA-256 of the key, so any valid key maps to one
 * flat, safe path, and `a` and `a/b` can both exist.
 */
export class LocalBlobStore implements BlobStore {
  private readonly objects: string;
  private readonly tmp: string;
  private readonly fsync: boolean;
  private readonly db: DatabaseSync;
  private readonly sql: ReturnType<typeof prepareStatements>;

  private constructor(options: LocalBlobStoreOptions) {
    const root = join(options.dataDir, 'blobs');
    this.objects = join(root, 'objects');
    this.tmp = join(root, 'tmp');
    this.fsync = options.fsync ?? true;
    mkdirSync(this.objects, { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
    this.db = openDatabase({ path: join(root, 'blobs.db'), migrations: BLOB_MIGRATIONS, synchronous: this.fsync ? 'FULL' : 'NORMAL' });
    this.sql = prepareStatements(this.db);
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
    if (body instanceof Uint8Array && body.length <= SMALL_BLOB_BYTES) return this.putSmall(key, body, options);
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
      this.sql.delete.run(key); // an earlier, smaller version of the key
      return { key, size, sha256: trailer.sha256, contentType: trailer.contentType, createdAt };
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** A small buffer becomes one row; a file left by an earlier, larger version of the key goes. */
  private async putSmall(key: string, data: Uint8Array, options: PutOptions): Promise<BlobMetadata> {
    if (options.maxBytes !== undefined && data.length > options.maxBytes) throw new BlobTooLargeError(options.maxBytes);
    const createdAt = new Date();
    const sha256 = createHash('sha256').update(data).digest('hex');
    this.sql.put.run(key, data, sha256, options.contentType, createdAt.getTime());
    await this.unlinkFile(key);
    return { key, size: data.length, sha256, contentType: options.contentType, createdAt };
  }

  async get(key: string): Promise<{ metadata: BlobMetadata; body: Readable }> {
    const small = this.readSmall(key);
    if (small) return { metadata: small.metadata, body: Readable.from([small.data]) };
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
    const small = this.readSmall(key);
    if (small) return small.metadata;
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

  /** A local directory has no direct links: the gateway streams the blob. */
  async downloadUrl(key: string): Promise<string | undefined> {
    assertValidBlobKey(key);
    return undefined;
  }

  async delete(key: string): Promise<boolean> {
    assertValidBlobKey(key);
    const row = this.sql.delete.run(key).changes > 0;
    const file = await this.unlinkFile(key);
    return row || file;
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  private readSmall(key: string): { metadata: BlobMetadata; data: Buffer } | undefined {
    assertValidBlobKey(key);
    const row = this.sql.get.get(key) as SmallRow | undefined;
    if (!row) return undefined;
    const data = Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength);
    return {
      data,
      metadata: { key, size: data.length, sha256: row.sha256, contentType: row.content_type, createdAt: new Date(row.created_at) },
    };
  }

  private async unlinkFile(key: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
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

function prepareStatements(db: DatabaseSync) {
  return {
    put: db.prepare(
      `INSERT INTO small_blobs (key, data, sha256, content_type, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET data = excluded.data, sha256 = excluded.sha256, content_type = excluded.content_type, created_at = excluded.created_at`,
    ),
    get: db.prepare('SELECT data, sha256, content_type, created_at FROM small_blobs WHERE key = ?'),
    delete: db.prepare('DELETE FROM small_blobs WHERE key = ?'),
  } satisfies Record<string, StatementSync>;
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
