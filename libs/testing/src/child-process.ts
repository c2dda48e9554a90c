import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { workspaceRoot } from './workspace';

/**
 * A TypeScript module running in its own Node process (through tsx, with the workspace's path
 * aliases). It reports with one JSON object per stdout line; `lines` collects them.
 */
export class TsChild {
  readonly lines: Record<string, unknown>[] = [];
  /** What the child sent over its IPC channel, when started with one. */
  readonly messages: unknown[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly stderr: string[] = [];
  private listeners: (() => void)[] = [];
  private muted = false;

  private constructor(readonly process: ChildProcess) {
    if (!process.stdout || !process.stderr) throw new Error('child must be spawned with piped stdout and stderr');
    createInterface({ input: process.stdout }).on('line', (line) => {
      if (this.muted) return;
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.stderr.push(line);
      }
      this.listeners.forEach((l) => l());
    });
    process.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    process.on('message', (m) => {
      this.messages.push(m);
      this.listeners.forEach((l) => l());
    });
    this.exited = new Promise((resolve) => process.on('exit', (code, signal) => resolve({ code, signal })));
    this.exited.then(() => this.listeners.forEach((l) => l()));
  }

  /** `ipc`: with an IPC channel, as `npm start` and the worker pool start the apps (they announce their port on it). */
  static start(modulePath: string, args: unknown, env: Record<string, string> = {}, options: { ipc?: boolean } = {}): TsChild {
    const root = workspaceRoot();
    const child = spawn(process.execPath, ['--import', 'tsx', modulePath, JSON.stringify(args)], {
      cwd: root,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.base.json') },
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    return new TsChild(child);
  }

  /**
   * Stops collecting output (it is still read and dropped, so the child never blocks on a full pipe).
   * For benchmarks, where parsing a busy server's log lines would take CPU from the load generator.
   */
  quiet(): void {
    this.process.stdout?.removeAllListeners('data');
    this.process.stdout?.on('data', () => undefined);
    this.muted = true;
  }

  /** Wraps a process spawned elsewhere (stdout and stderr piped), e.g. a bundle run with plain node. */
  static attach(child: ChildProcess): TsChild {
    return new TsChild(child);
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** What the child wrote to stderr, and its last stdout lines, for failure messages. */
  get errorOutput(): string {
    const recent = this.lines.slice(-5).map((l) => JSON.stringify(l));
    return `${this.stderr.join('')}\nlast stdout lines:\n${recent.join('\n')}`;
  }

  /** Resolves with the first IPC message matching `predicate`; rejects if the child exits first or time runs out. */
  waitForMessage<T>(predicate: (m: unknown) => m is T, timeoutMs = 15_000): Promise<T> {
    return this.waitFor(() => this.messages.find(predicate) as T | undefined, 'message', timeoutMs);
  }

  /** Resolves with the first line matching `predicate`; rejects if the child exits first or time runs out. */
  waitForLine(predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    return this.waitFor(() => this.lines.find(predicate), 'line', timeoutMs);
  }

  private waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      let exited = false;
      void this.exited.then(() => (exited = true));
      const timer = setTimeout(
        () => finish(new Error(`no matching ${what} within ${timeoutMs} ms; stderr: ${this.errorOutput}`)),
        timeoutMs,
      );
      const check = () => {
        const found = find();
        if (found !== undefined) finish(undefined, found);
        else if (exited || this.process.exitCode !== null || this.process.signalCode !== null)
          finish(new Error(`child exited before a matching ${what}; stderr: ${this.errorOutput}`));
      };
      const finish = (err?: Error, found?: T) => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        if (err) reject(err);
        else resolve(found as T);
      };
      this.listeners.push(check);
      check();
    });
  }

  /** Stops the child by its PID (SIGKILL unless told otherwise) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      try {
        process.kill(this.pid, signal);
      } catch {
        // already gone
      }
    }
    await this.exited;
  }
}
