import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsChild, makeTempDir, releaseTogether, startAzurite } from '@gpu-jobs/testing';
import { PlatformConfig, parsePlatformEnv } from './platform-config';
import { openPorts } from './ports';
import { afterAll, describe, expect, it } from 'vitest';

const dir = makeTempDir('ports-');
afterAll(() => dir.remove());

describe('adapter settings', () => {
  it('a chosen adapter without its settings is a start-up error naming the variable', () => {
    const parse = (env: Record<string, string>) => () => parsePlatformEnv(PlatformConfig, env);
    expect(parse({ QUEUE_ADAPTER: 'servicebus' })).toThrow(/SERVICEBUS_NAMESPACE: is required when QUEUE_ADAPTER=servicebus/);
    expect(parse({ TASK_STORE_ADAPTER: 'mongodb' })).toThrow(/MONGODB_URI: is required when TASK_STORE_ADAPTER=mongodb/);
    expect(parse({ BLOB_STORE_ADAPTER: 'azure' })).toThrow(/AZURE_STORAGE_ACCOUNT_URL: is required/);
    expect(parse({ QUEUE_ADAPTER: 'rabbitmq' })).toThrow(/QUEUE_ADAPTER/);
    expect(parse({ QUEUE_ADAPTER: 'servicebus', SERVICEBUS_NAMESPACE: 'x.servicebus.windows.net' })).not.toThrow();
    expect(parse({})().QUEUE_ADAPTER).toBe('embedded');
  });

  it('opens the Azure Blob adapter by configuration (against Azurite here)', async () => {
    const azurite = await startAzurite();
    try {
      const config = parsePlatformEnv(PlatformConfig, {
        DATA_DIR: join(dir.path, 'azure'),
        BLOB_STORE_ADAPTER: 'azure',
        AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      });
      const ports = await openPorts(config, ['small-gpu']);
      expect(ports.blobs.constructor.name).toBe('AzureBlobStore');
      await ports.blobs.put('inputs/acme/j1', Buffer.from('x'), { contentType: 'text/plain' });
      expect(await ports.blobs.exists('inputs/acme/j1')).toBe(true);
      await ports.close();
    } finally {
      await azurite.stop();
    }
  }, 60_000);
});

describe('openPorts', () => {
  // `npm start` starts the gateway and a worker together on a new data directory: both create the same files.
  it('several processes can open the ports on a new data directory at the same moment', async () => {
    const script = join(dir.path, 'open-ports.mts');
    writeFileSync(
      script,
      `import { PlatformConfig, openPorts, parsePlatformEnv } from '@gpu-jobs/platform';
       import { waitForGo } from '@gpu-jobs/testing';
       const { dataDir } = JSON.parse(process.argv[2] ?? '{}');
       await waitForGo(dataDir + '.go');
       const config = parsePlatformEnv(PlatformConfig, { DATA_DIR: dataDir, QUEUE_LOCK_SECONDS: '30', QUEUE_MAX_DELIVERY_COUNT: '5' });
       try {
         const ports = await openPorts(config, ['small-gpu', 'large-gpu']);
         await ports.queue.send('small-gpu', { messageId: String(process.pid), body: {} });
         console.log(JSON.stringify({ opened: true }));
         await ports.close();
       } catch (err) {
         console.log(JSON.stringify({ failed: String(err) }));
       }`,
    );
    for (let round = 0; round < 5; round++) {
      const dataDir = join(dir.path, `data-${round}`);
      const children = Array.from({ length: 4 }, () => TsChild.start(script, { dataDir }));
      try {
        await releaseTogether(children, `${dataDir}.go`);
        // a generous ceiling: on a loaded machine four processes creating the same files can take long
        const results = await Promise.all(children.map((c) => c.waitForLine((l) => 'opened' in l || 'failed' in l, 120_000)));
        expect(results).toEqual(new Array(4).fill({ opened: true }));
      } finally {
        await Promise.all(children.map((c) => c.stop()));
      }
    }
  }, 600_000);
});
