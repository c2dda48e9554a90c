import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type DataDirLock = { ok: true; release: () => void } | { ok: false; holder: number };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `npm start`'s claim on a data directory: DATA_DIR/npm-start.pid, created exclusively. A file left by a process
 * that no longer runs (killed with -9) is taken over; one whose process runs refuses this start.
 */
export function acquireDataDirLock(dataDir: string, pid = process.pid): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'npm-start.pid');
  for (let tries = 0; tries < 3; tries++) {
    try {
      writeFileSync(path, String(pid), { flag: 'wx' });
      return { ok: true, release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) return { ok: false, holder };
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`cannot take ${path}`);
}
