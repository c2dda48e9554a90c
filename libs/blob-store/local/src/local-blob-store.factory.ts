// The contract suite's way to open this adapter.
import type { BlobStoreFactory } from '@gpu-jobs/blob-store/testing';
import { LocalBlobStore } from './local-blob-store';

const open: BlobStoreFactory = async ({ dataDir }) => LocalBlobStore.open({ dataDir });
export default open;
