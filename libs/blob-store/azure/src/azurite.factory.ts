// The contract suite's way to open this adapter against Azurite, started by azure-blob-store.test.ts.
import type { BlobStoreFactory } from '@gpu-jobs/blob-store/testing';
import { AzureBlobStore } from './azure-blob-store';

const open: BlobStoreFactory = async () => {
  const connectionString = process.env['AZURITE_BLOB_CONNECTION_STRING'];
  if (!connectionString) throw new Error('Azurite is not running (AZURITE_BLOB_CONNECTION_STRING is unset)');
  // small blocks, so the staged-block path is exercised by the contract's megabyte blobs
  return AzureBlobStore.open({
    connection: { connectionString },
    containers: { inputs: 'inputs', results: 'results' },
    blockBytes: 256 * 1024,
  });
};
export default open;
