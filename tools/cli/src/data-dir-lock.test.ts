import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@gpu-jobs/testing';
import { describe, expect, it } from 'vitest';
import { acquireDataDirLock } from './data-dir-lock';

describe('data directory lock', () => {
  it('one holder at a time; released, it can be taken again; a dead holder is taken over', async () => {
    const dir = makeTempDir('lock-');
    try {
      // another live process holds it
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
      writeFileSync(join(dir.path, 'npm-start.pid'), String(other.pid));
      expect(acquireDataDirLock(dir.path)).toEqual({ ok: false, holder: other.pid });
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      // its process is gone: the file is stale
      const mine = acquireDataDirLock(dir.path);
      expect(mine.ok).toBe(true);
      expect(acquireDataDirLock(dir.path, 1).ok).toBe(false); // pid 1 always runs: it sees this process holding it
      if (mine.ok) mine.release();
      const again = acquireDataDirLock(dir.path);
      expect(again.ok).toBe(true);
      if (again.ok) again.release();
    } finally {
      dir.remove();
    }
  });
});
