import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { workspaceRoot } from './workspace';

/** Azurite's documented development account: a public, well-known key that only works against Azurite. */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  connectionString: string;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts Azurite's Blob service (the Azure Storage emulator, from npm) in memory on a port the OS picks, and
 * returns its connection string. A real implementation of the Blob REST API, not a mock. Stopped by PID.
 */
export async function startAzurite(timeoutMs = 30_000): Promise<Azurite> {
  const main = join(workspaceRoot(), 'node_modules/azurite/dist/src/blob/main.js');
  const child = spawn(
    process.execPath,
    [main, '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--skipApiVersionCheck', '--loose', '--silent'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Azurite did not start')), timeoutMs);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /listens on (http:\/\/\S+)/.exec(line);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`Azurite exited with ${code}`)));
    });
    const endpoint = `${url}/${DEV_ACCOUNT}`;
    return {
      url: endpoint,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${endpoint};`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
