// The contract suite's way to open this adapter against real Azure Storage: AZURE_STORAGE_CONNECTION_STRING,
// or AZURE_STORAGE_ACCOUNT_URL with DefaultAzureCredential (az login, workload identity, ...).
import { DefaultAzureCredential } from '@azure/identity';
import type { BlobStoreFactory } from '@gpu-jobs/blob-store/testing';
import { AzureBlobStore } from './azure-blob-store';

export function azureSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env['AZURE_STORAGE_CONNECTION_STRING'] || env['AZURE_STORAGE_ACCOUNT_URL'] || undefined;
}

const open: BlobStoreFactory = async () => {
  const connectionString = process.env['AZURE_STORAGE_CONNECTION_STRING'];
  const accountUrl = process.env['AZURE_STORAGE_ACCOUNT_URL'];
  const containers = {
    inputs: process.env['AZURE_STORAGE_INPUTS_CONTAINER'] || 'inputs',
    results: process.env['AZURE_STORAGE_RESULTS_CONTAINER'] || 'results',
  };
  if (connectionString) return AzureBlobStore.open({ connection: { connectionString }, containers });
  if (accountUrl) return AzureBlobStore.open({ connection: { accountUrl, credential: new DefaultAzureCredential() }, containers });
  throw new Error('set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL');
};
export default open;
