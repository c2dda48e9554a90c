import type { Readable } from 'node:stream';

/** Stored with every blob and returned by head and get. */
export interface BlobMetadata {
  key: string;
  size: number;
  /** Hex SHA-256 of the content, computed while writing. */
  sha256: string;
  contentType: string;
  createdAt: Date;
}

export interface PutOptions {
  contentType: string;
  /** Refuse (and store nothing) past this many bytes. */
  maxBytes?: number;
}

export type BlobBody = Buffer | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/**
 * The blob store port: job inputs and large results. A put is all or nothing: readers see the old
 * content or the new, never a part. Keys are validated the same way by every adapter (see blob-key.ts).
 */
export interface BlobStore {
  put(key: string, body: BlobBody, options: PutOptions): Promise<BlobMetadata>;
  /** Streams the content. Throws BlobNotFoundError. */
  get(key: string): Promise<{ metadata: BlobMetadata; body: Readable }>;
  head(key: string): Promise<BlobMetadata | undefined>;
  exists(key: string): Promise<boolean>;
  /** True when something was deleted; deleting a missing blob is not an error. */
  delete(key: string): Promise<boolean>;
  /**
   * A link that downloads the blob directly for `expiresInSeconds` (Azure: a read-only SAS), or undefined
   * when the store has none (local: the gateway streams the blob itself).
   */
  downloadUrl(key: string, expiresInSeconds: number): Promise<string | undefined>;
  close(): Promise<void>;
}
