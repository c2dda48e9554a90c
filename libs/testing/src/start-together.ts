import { existsSync, writeFileSync } from 'node:fs';
import type { TsChild } from './child-process';

/**
 * Concurrency tests need their processes to act at the same moment, not as each finishes starting:
 * every child prints `{"ready":true}`, then waits for the go file (waitForGo), which the parent writes
 * once all are ready (releaseTogether).
 */
export async function releaseTogether(children: TsChild[], goFile: string, timeoutMs = 120_000): Promise<void> {
  await Promise.all(children.map((c) => c.waitForLine((l) => l['ready'] === true, timeoutMs)));
  writeFileSync(goFile, '');
}

/** The child's side: announces it is ready and waits (bounded) for the go file. */
export async function waitForGo(goFile: string, timeoutMs = 120_000): Promise<void> {
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  const until = Date.now() + timeoutMs;
  while (!existsSync(goFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
}
