import { isServiceBusError } from '@azure/service-bus';
import { LockLostError, QueueError, QueueNotFoundError } from '@gpu-jobs/queue';

export type ErrorClass = 'lock-lost' | 'not-found' | 'transient' | 'permanent';

/**
 * What a Service Bus error means to the caller: the lock is gone (do not retry the settle), the queue does
 * not exist, a transient condition the SDK's retries did not outlast (busy, timeout, connection: retry
 * later), or a permanent one (unauthorized, too large, quota: fix something first).
 */
export function classify(err: unknown): ErrorClass {
  if (isServiceBusError(err)) {
    switch (err.code) {
      case 'MessageLockLost':
      case 'SessionLockLost':
      case 'MessageNotFound':
        return 'lock-lost';
      case 'MessagingEntityNotFound':
        return 'not-found';
      case 'ServiceBusy':
      case 'ServiceTimeout':
      case 'ServiceCommunicationProblem':
        return 'transient';
      case 'GeneralError':
        return err.retryable ? 'transient' : 'permanent';
      default:
        return err.retryable ? 'transient' : 'permanent';
    }
  }
  const e = err as { name?: string; code?: string; statusCode?: number };
  if (e?.name === 'AbortError') return 'transient';
  if (e?.statusCode === 404) return 'not-found';
  if (e?.statusCode !== undefined && (e.statusCode === 429 || e.statusCode >= 500)) return 'transient';
  if (e?.code === 'ECONNRESET' || e?.code === 'ETIMEDOUT' || e?.code === 'ENOTFOUND') return 'transient';
  return 'permanent';
}

/** The port's error for a Service Bus error, so handlers read the same on both adapters. */
export function toPortError(err: unknown, queueName: string, messageId = ''): unknown {
  switch (classify(err)) {
    case 'lock-lost':
      return new LockLostError(queueName, messageId);
    case 'not-found':
      return new QueueNotFoundError(queueName);
    default:
      if (isServiceBusError(err) && err.code === 'MessageSizeExceeded') return new QueueError('InvalidMessage', err.message);
      return err;
  }
}
