// Control between a parent that starts platform processes (npm start, the local worker pool) and its children
// travels over Node's IPC channel, never through log lines: a log format or level change cannot break it.

/** What a child tells its parent once it listens. */
export interface ListeningMessage {
  type: 'gpu-jobs:listening';
  service: string;
  port: number;
}

export function isListeningMessage(m: unknown): m is ListeningMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    (m as ListeningMessage).type === 'gpu-jobs:listening' &&
    typeof (m as ListeningMessage).port === 'number'
  );
}

/** Tells the parent (when it started this process with an IPC channel) the port this process listens on. */
export function announceListening(service: string, port: number): void {
  if (process.send && process.connected) process.send({ type: 'gpu-jobs:listening', service, port } satisfies ListeningMessage);
}

/**
 * Stops this process when the parent that started it with an IPC channel goes away (killed, crashed): a
 * child never outlives the `npm start` or the worker pool that owns it. Without a channel, nothing happens.
 */
export function stopWithParent(stop: (why: string) => void): void {
  if (process.send) process.once('disconnect', () => stop('the parent process exited'));
}

/** A listen error as a person can act on it: a port in use names the variable to change; others pass through. */
export function listenError(err: NodeJS.ErrnoException, port: number, variable = 'PORT'): Error {
  return err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: set ${variable} to a free port`) : err;
}
