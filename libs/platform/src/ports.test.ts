import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsChild, makeTempDir, releaseTogether } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';

const dir = makeTempDir('ports-');
afterAll(() => dir.remove());

describe('openPorts', () => {
  // `npm start` starts the gateway and a worker together on a new data directory: both create the same files.
  it('several processes can open the ports on a new data directory at the same moment', async () => {
    const script = join(dir.path, 'open-ports.mts');
    writeFileSync(
      script,
      `import { openPorts } from '@gpu-jobs/platform';
       import { waitForGo } from '@gpu-jobs/testing';
       const { dataDir } = JSON.parse(process.argv[2] ?? '{}');
       await waitForGo(dataDir + '.go');
       const config = { DATA_DIR: dataDir, QUEUE_ADAPTER: 'embedded', TASK_STORE_ADAPTER: 'embedded', BLOB_STORE_ADAPTER: 'local', MODEL_REGISTRY: '', QUEUE_LOCK_SECONDS: 30, QUEUE_MAX_DELIVERY_COUNT: 5, EMBEDDED_SYNCHRONOUS: 'NORMAL' };
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
        const results = await Promise.all(children.map((c) => c.waitForLine((l) => 'opened' in l || 'failed' in l, 30_000)));
        expect(results).toEqual(new Array(4).fill({ opened: true }));
      } finally {
        await Promise.all(children.map((c) => c.stop()));
      }
    }
  }, 120_000);
});
