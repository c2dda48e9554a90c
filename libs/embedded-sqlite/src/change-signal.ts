import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Wakes waiters when the database file changes, whichever process wrote it. SQLite in WAL mode
 * appends every commit to `<file>-wal`, and the kernel reports that write to a directory watch
 * (inotify on Linux), so a waiting receiver sleeps without polling and still sees another process's
 * send at once. Waits are always bounded by the caller, so a missed event (network file systems)
 * costs latency, never a lost wake-up.
 */
export class ChangeSignal {
  private readonly waiters = new Set<() => void>();
  private readonly watcher: FSWatcher | undefined;

  constructor(dbPath: string) {
    const prefix = basename(dbPath);
    try {
      this.watcher = watch(dirname(dbPath), { persistent: false }, (_event, file) => {
        if (file === null || String(file).startsWith(prefix)) this.notify();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = undefined; // no watch support: callers' bounded waits still work
    }
  }

  /** Wakes every current waiter. Writers in this process call it after a commit. */
  notify(): void {
    const current = [...this.waiters];
    this.waiters.clear();
    for (const wake of current) wake();
  }

  /** Resolves at the next change, after `ms`, or when `signal` aborts, whichever is first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  close(): void {
    this.watcher?.close();
    this.notify();
  }
}
