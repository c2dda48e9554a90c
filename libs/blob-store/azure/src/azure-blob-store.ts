import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { TokenCredential } from '@azure/core-auth';
import {
  BlobSASPermissions,
  BlobServiceClient,
  RestError,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlobGetPropertiesResponse,
  type UserDelegationKey,
} from '@azure/storage-blob';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  type BlobBody,
  type BlobMetadata,
  type BlobStore,
  type PutOptions,
} from '@gpu-jobs/blob-store';
import { blockId, locate, type Containers } from './blob-location';

export interface AzureBlobStoreOptions {
  /** A connection string (local use, Azurite) or an account URL with a token credential (workload identity). */
  connection: { connectionString: string } | { accountUrl: string; credential: TokenCredential };
  containers: Containers;
  /** Create the containers when missing (they are normally provisioned by infra/). */
  createContainers?: boolean;
  /** Bytes per staged block for streamed uploads. */
  blockBytes?: number;
}

/** Bodies up to this size go up in one Put Blob request; larger ones as staged blocks. */
const SINGLE_PUT_MAX = 4 * 1024 * 1024;

/**
 * The blob store on Azure Blob Storage. A put is all or nothing: small blobs are one Put Blob, larger ones
 * staged blocks made visible by one Put Block List, carrying the content type and SHA-256 (metadata
 * `sha256`) in that same request, so readers never see a part or a blob without its metadata.
 */
export class AzureBlobStore implements BlobStore {
  private readonly service: BlobServiceClient;
  private readonly blockBytes: number;
  private delegation: { key: UserDelegationKey; expiresOn: Date } | undefined;

  private constructor(
    private readonly options: AzureBlobStoreOptions,
    service: BlobServiceClient,
  ) {
    this.service = service;
    this.blockBytes = options.blockBytes ?? SINGLE_PUT_MAX;
  }

  static async open(options: AzureBlobStoreOptions): Promise<AzureBlobStore> {
    const service =
      'connectionString' in options.connection
        ? BlobServiceClient.fromConnectionString(options.connection.connectionString)
        : new BlobServiceClient(options.connection.accountUrl, options.connection.credential);
    const store = new AzureBlobStore(options, service);
    if (options.createContainers ?? true) {
      for (const name of new Set([options.containers.inputs, options.containers.results])) {
        await service.getContainerClient(name).createIfNotExists();
      }
    }
    return store;
  }

  private blob(key: string) {
    const { container, blobName } = locate(key, this.options.containers);
    return this.service.getContainerClient(container).getBlockBlobClient(blobName);
  }

  async put(key: string, body: BlobBody, options: PutOptions): Promise<BlobMetadata> {
    const blob = this.blob(key);
    const hash = createHash('sha256');
    const headers = { blobHTTPHeaders: { blobContentType: options.contentType } };
    let size = 0;
    const count = (chunk: Uint8Array) => {
      size += chunk.length;
      if (options.maxBytes !== undefined && size > options.maxBytes) throw new BlobTooLargeError(options.maxBytes);
      hash.update(chunk);
    };
    if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
      const data = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      if (data.length <= SINGLE_PUT_MAX) {
        count(data);
        const sha256 = hash.digest('hex');
        const r = await blob.upload(data, data.length, { ...headers, metadata: { sha256 } });
        return { key, size, sha256, contentType: options.contentType, createdAt: r.lastModified ?? new Date() };
      }
      body = Readable.from([data]);
    }
    // staged blocks: nothing is visible until the block list is committed, so a failing source stores nothing
    const ids: string[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const block = Buffer.concat(pending, pendingBytes);
      const id = blockId(ids.length);
      await blob.stageBlock(id, block, block.length);
      ids.push(id);
      pending = [];
      pendingBytes = 0;
    };
    for await (const raw of body as AsyncIterable<Uint8Array>) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
      count(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= this.blockBytes) await flush();
    }
    await flush();
    const sha256 = hash.digest('hex');
    const r = await blob.commitBlockList(ids, { ...headers, metadata: { sha256 } });
    return { key, size, sha256, contentType: options.contentType, createdAt: r.lastModified ?? new Date() };
  }

  async get(key: string): Promise<{ metadata: BlobMetadata; body: Readable }> {
    const blob = this.blob(key);
    try {
      const r = await blob.download();
      const body = (r.readableStreamBody as Readable | undefined) ?? Readable.from([]);
      return { metadata: toMetadata(key, r), body };
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<BlobMetadata | undefined> {
    const blob = this.blob(key);
    try {
      return toMetadata(key, await blob.getProperties());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return this.blob(key).exists();
  }

  async delete(key: string): Promise<boolean> {
    return (await this.blob(key).deleteIfExists()).succeeded;
  }

  /**
   * A read-only link to the blob valid for `expiresInSeconds`, so clients download large results from
   * Storage directly: a user-delegation SAS (signed with a key obtained through Entra ID, no account key
   * anywhere) with workload identity; a service SAS with the account key of a connection string (Azurite).
   */
  async downloadUrl(key: string, expiresInSeconds: number): Promise<string | undefined> {
    const { container, blobName } = locate(key, this.options.containers);
    const startsOn = new Date(Date.now() - 5 * 60_000); // clock skew
    const expiresOn = new Date(Date.now() + expiresInSeconds * 1000);
    const values = {
      containerName: container,
      blobName,
      permissions: BlobSASPermissions.parse('r'),
      startsOn,
      expiresOn,
      protocol: this.service.url.startsWith('https:') ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
    };
    const blob = this.service.getContainerClient(container).getBlobClient(blobName);
    const credential = this.service.credential;
    if (credential instanceof StorageSharedKeyCredential) {
      return `${blob.url}?${generateBlobSASQueryParameters(values, credential).toString()}`;
    }
    const key_ = await this.delegationKey(expiresOn);
    return `${blob.url}?${generateBlobSASQueryParameters(values, key_, this.service.accountName).toString()}`;
  }

  /** One user-delegation key serves many links: asked for a day at a time, renewed an hour before it ends. */
  private async delegationKey(until: Date): Promise<UserDelegationKey> {
    if (!this.delegation || this.delegation.expiresOn.getTime() - 3_600_000 < until.getTime()) {
      const expiresOn = new Date(Math.max(until.getTime(), Date.now()) + 24 * 3_600_000);
      const key = await this.service.getUserDelegationKey(new Date(Date.now() - 5 * 60_000), expiresOn);
      this.delegation = { key, expiresOn };
    }
    return this.delegation.key;
  }

  async close(): Promise<void> {
    // the SDK's HTTP client holds no connection that needs closing
  }
}

function toMetadata(
  key: string,
  r: Pick<BlobGetPropertiesResponse, 'contentLength' | 'contentType' | 'metadata' | 'createdOn' | 'lastModified'>,
): BlobMetadata {
  return {
    key,
    size: r.contentLength ?? 0,
    sha256: r.metadata?.['sha256'] ?? '',
    contentType: r.contentType ?? 'application/octet-stream',
    createdAt: r.createdOn ?? r.lastModified ?? new Date(0),
  };
}

function isNotFound(err: unknown): boolean {
  return err instanceof RestError && err.statusCode === 404;
}
