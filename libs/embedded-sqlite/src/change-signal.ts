import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** After the last file event of a burst, wake-ups this much later (see below): soon, and once more to be sure. */
const TRAILING_WAKES_MS = [2, 20];

/**
 * Wakes waiters when the database file changes, whichever process wrote it. SQLite in WAL mode
 * appends every commit to `<file>-wal`, and the kernel reports that write to a directory watch
 * (inotify on Linux), so a waiting receiver sleeps without polling and still sees another process's
 * send at once. The kernel reports the write of the commit frame, but the writer publishes the commit
 * in the shared-memory index (`-shm`, mapped, so no event) a moment later: a reader woken by the first
 * event can still see the old snapshot. So every burst of events is followed by one more wake-up
 * shortly after. Callers also bound every wait, so a missed event (network file systems) costs
 * latency, never a lost wake-up.
 */
export class ChangeSignal {
  private readonly waiters = new Set<() => void>();
  private readonly watcher: FSWatcher | undefined;
  private changes = 0;
  private trailing: NodeJS.Timeout[] = [];

  constructor(dbPath: string) {
    const prefix = basename(dbPath);
    try {
      this.watcher = watch(dirname(dbPath), { persistent: false }, (_event, file) => {
        if (file !== null && !String(file).startsWith(prefix)) return;
        this.notify();
        this.trailing.forEach(clearTimeout);
        this.trailing = TRAILING_WAKES_MS.map((ms) => setTimeout(() => this.notify(), ms).unref());
      });
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = undefined; // no watch support: callers' bounded waits still work
    }
  }

  /**
   * How many changes this signal has seen. Read it before checking for work and pass it to wait: a
   * change that lands between the check and the wait then ends the wait at once instead of being missed.
   */
  get version(): number {
    return this.changes;
  }

  /** Wakes every current waiter. Writers in this process call it after a commit. */
  notify(): void {
    this.changes += 1;
    const current = [...this.waiters];
    this.waiters.clear();
    for (const wake of current) wake();
  }

  /**
   * Resolves at the next change (or at once if there was one since `since`), after `ms`, or when
   * `signal` aborts, whichever is first.
   */
  wait(ms: number, signal?: AbortSignal, since?: number): Promise<void> {
    if (signal?.aborted || ms <= 0 || (since !== undefined && since !== this.changes)) return Promise.resolve();
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
    this.trailing.forEach(clearTimeout);
    this.watcher?.close();
    this.notify();
  }
}
