import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { isListeningMessage } from '@gpu-jobs/config';
import { TsChild } from './child-process';
import { workspaceRoot } from './workspace';

/**
 * A gateway, worker or scaler started the way `npm start` starts it (its main.ts in its own process, with an IPC
 * channel), on a port the OS picks (PORT=0, announced on the channel), and stopped by PID.
 */
export class PlatformProcess {
  private constructor(
    readonly child: TsChild,
    readonly url: string,
  ) {}

  /** `scaler` is the scaler's local loop, which starts and stops its own worker processes. */
  static async start(app: 'gateway' | 'worker' | 'scaler', env: Record<string, string>, timeoutMs = 60_000): Promise<PlatformProcess> {
    const child = TsChild.start(
      join(workspaceRoot(), app === 'scaler' ? 'apps/scaler/src/local-main.ts' : `apps/${app}/src/main.ts`),
      {},
      { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      { ipc: true },
    );
    return PlatformProcess.ready(child, timeoutMs);
  }

  /** A gateway or worker spawned by the caller (say, a bundle with plain node) with PORT=0 and piped output. */
  static attach(process: ChildProcess, timeoutMs = 60_000): Promise<PlatformProcess> {
    return PlatformProcess.ready(TsChild.attach(process), timeoutMs);
  }

  private static async ready(child: TsChild, timeoutMs: number): Promise<PlatformProcess> {
    try {
      // the port comes over the IPC channel; a process spawned elsewhere without one is read from its log line
      const port = child.process.connected
        ? (await child.waitForMessage(isListeningMessage, timeoutMs)).port
        : ((await child.waitForLine((l) => typeof l['port'] === 'number' && /listening/.test(String(l['msg'])), timeoutMs))[
            'port'
          ] as number);
      const url = `http://127.0.0.1:${port}`;
      const started = new PlatformProcess(child, url);
      await started.waitFor('/health/startup', 200, timeoutMs);
      return started;
    } catch (err) {
      await child.stop();
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Polls a path until it answers `status` (bounded by timeoutMs). */
  async waitFor(path: string, status: number, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = 0;
    while (Date.now() < until) {
      try {
        last = (await fetch(this.url + path)).status;
        if (last === status) return;
      } catch {
        last = -1;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.url}${path} answered ${last}, not ${status}, within ${timeoutMs} ms; stderr: ${this.child.errorOutput}`);
  }

  /** Log lines (pino JSON) with this message. */
  logs(msg: string): Record<string, unknown>[] {
    return this.child.lines.filter((l) => l['msg'] === msg);
  }

  stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.child.stop(signal);
  }
}
