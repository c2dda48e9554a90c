/** The codes follow Service Bus's `ServiceBusError.code`, so handlers read the same on both adapters. */
export type QueueErrorCode = 'MessageLockLost' | 'MessagingEntityNotFound' | 'ClientClosed' | 'InvalidMessage';

export class QueueError extends Error {
  override readonly name: string = 'QueueError';
  constructor(
    readonly code: QueueErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The lock expired or the message was settled: another receiver may hold it now. Do not retry the settle. */
export class LockLostError extends QueueError {
  override readonly name = 'LockLostError';
  constructor(queueName: string, messageId: string) {
    super('MessageLockLost', `the lock on message ${messageId} in ${queueName} was lost`);
  }
}

export class QueueNotFoundError extends QueueError {
  override readonly name = 'QueueNotFoundError';
  constructor(queueName: string) {
    super('MessagingEntityNotFound', `queue ${queueName} does not exist`);
  }
}

export class QueueClosedError extends QueueError {
  override readonly name = 'QueueClosedError';
  constructor() {
    super('ClientClosed', 'the queue client is closed');
  }
}
