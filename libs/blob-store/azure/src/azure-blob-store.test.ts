import { fileURLToPath } from 'node:url';
import { readAll } from '@gpu-jobs/blob-store';
import { describeBlobStoreContract } from '@gpu-jobs/blob-store/testing';
import { startAzurite, type Azurite } from '@gpu-jobs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStore } from './azure-blob-store';
import { azureSettingsFromEnv } from './azure-blob-store.factory';
import { blockId, locate } from './blob-location';

// Azurite is the Azure Storage emulator from npm: a real Blob REST API server, started here on loopback.
let azurite: Azurite | undefined;
beforeAll(async () => {
  azurite = await startAzurite();
  process.env['AZURITE_BLOB_CONNECTION_STRING'] = azurite.connectionString;
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
  delete process.env['AZURITE_BLOB_CONNECTION_STRING'];
});

describeBlobStoreContract({
  name: 'Azure Blob (Azurite on loopback)',
  factoryModule: fileURLToPath(new URL('./azurite.factory.ts', import.meta.url)),
});

const real = azureSettingsFromEnv();
describeBlobStoreContract({
  name: 'Azure Blob (a real storage account)',
  factoryModule: fileURLToPath(new URL('./azure-blob-store.factory.ts', import.meta.url)),
  ...(real ? {} : { skipReason: 'AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL is not set' }),
});

describe('blob location', () => {
  const containers = { inputs: 'in', results: 'out' };
  it('maps inputs/ and results/ to their containers, anything else under _other/ in the inputs container', () => {
    expect(locate('inputs/acme/job-1', containers)).toEqual({ container: 'in', blobName: 'acme/job-1' });
    expect(locate('results/acme/job-1.json', containers)).toEqual({ container: 'out', blobName: 'acme/job-1.json' });
    expect(locate('contract/x/a.bin', containers)).toEqual({ container: 'in', blobName: '_other/contract/x/a.bin' });
    expect(locate('inputs', containers)).toEqual({ container: 'in', blobName: '_other/inputs' });
    expect(() => locate('../x', containers)).toThrow(/invalid blob key/);
  });

  it('block ids have one length', () => {
    expect(new Set([0, 9, 99_999].map((i) => blockId(i).length)).size).toBe(1);
  });
});

describe('AzureBlobStore on Azurite', () => {
  it('gives a read-only download link that works without credentials and expires', async () => {
    const store = await AzureBlobStore.open({
      connection: { connectionString: (azurite as Azurite).connectionString },
      containers: { inputs: 'inputs', results: 'results' },
    });
    await store.put('results/acme/r1.json', Buffer.from('{"big":true}'), { contentType: 'application/json' });
    const url = await store.downloadUrl('results/acme/r1.json', 60);
    expect(url).toMatch(/\/results\/acme\/r1\.json\?.*sp=r/);
    const res = await fetch(url as string);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"big":true}');
    const write = await fetch(url as string, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'overwrite' });
    expect(write.status).toBe(403);
    const expired = await store.downloadUrl('results/acme/r1.json', -600);
    expect((await fetch(expired as string)).status).toBe(403);
    expect((await readAll((await store.get('results/acme/r1.json')).body)).toString()).toBe('{"big":true}');
    await store.close();
  });
});
