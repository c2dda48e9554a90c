import type { Logger } from '@gpu-jobs/telemetry';

/**
 * Runs `task` every `ms` after the previous run ended (never two at once); errors are logged with the task's
 * name, not thrown. The timer does not keep the process alive. `stop` waits for a run in progress.
 */
export function runEvery(ms: number, name: string, log: Logger, task: () => Promise<void>): { stop: () => Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = task()
      .catch((err: Error) => log.error({ task: name, errorName: err.name, errorMessage: err.message }, 'background task failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, ms).unref();
      });
  };
  timer = setTimeout(tick, ms).unref();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
