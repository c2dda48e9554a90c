/**
 * The queue port: Azure Service Bus semantics, so worker code never branches on the adapter.
 * Peek-lock delivery with a lock token and expiry, lock renewal, complete / abandon / dead-letter,
 * a delivery count with automatic dead-lettering at the queue's maximum, scheduled delivery and
 * duplicate detection by message id.
 */

export type PropertyValue = string | number | boolean;

/** Per-queue settings. On Service Bus they are set when the queue is provisioned (infra/). */
export interface QueueSettings {
  /** How long a receive holds a message before it returns to the queue. */
  lockDurationMs: number;
  /** Deliveries after which a message moves to the dead-letter queue. */
  maxDeliveryCount: number;
  /** A second send with the same message id within this window is dropped. */
  duplicateDetectionWindowMs: number;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  duplicateDetectionWindowMs: 10 * 60_000,
};

export interface OutgoingMessage {
  /** Unique per logical message; duplicate detection keys on it (the job id for job messages). */
  messageId: string;
  /** JSON-serialisable. Job messages carry references only. */
  body: unknown;
  applicationProperties?: Record<string, PropertyValue>;
  /** Delivered no earlier than this. */
  scheduledEnqueueTime?: Date;
}

export interface PeekedMessage {
  messageId: string;
  body: unknown;
  applicationProperties: Record<string, PropertyValue>;
  sequenceNumber: number;
  enqueuedTime: Date;
  deliveryCount: number;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
}

/** A message held under a peek-lock. Settle it with complete, abandon or deadLetter before lockedUntil. */
export interface LockedMessage extends PeekedMessage {
  queueName: string;
  subQueue: SubQueue;
  lockToken: string;
  lockedUntil: Date;
}

export type SubQueue = 'main' | 'deadLetter';

export interface ReceiveOptions {
  maxMessages: number;
  /** How long to wait for the first message when none is available; 0 returns at once. */
  maxWaitTimeMs: number;
  subQueue?: SubQueue;
  abortSignal?: AbortSignal;
}

export interface PeekOptions {
  maxMessages: number;
  subQueue?: SubQueue;
}

/** What the scaler reads. In-flight (locked) messages are counted apart from waiting ones. */
export interface QueueCounts {
  active: number;
  locked: number;
  scheduled: number;
  deadLettered: number;
  /** Age of the oldest message waiting for delivery, 0 when none waits. */
  oldestActiveAgeMs: number;
}

export interface Queue {
  /** Creates the queue if it does not exist; on an existing queue the settings are left as they are. */
  ensureQueue(queueName: string, settings?: Partial<QueueSettings>): Promise<QueueSettings>;
  /** Sends atomically: all messages are enqueued or none. Duplicates within the window are dropped silently. */
  send(queueName: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void>;
  /** Up to maxMessages, waiting up to maxWaitTimeMs for the first; an empty array when none came. */
  receive(queueName: string, options: ReceiveOptions): Promise<LockedMessage[]>;
  /** Extends the lock by the queue's lock duration; returns the new expiry. Throws LockLostError. */
  renewLock(message: LockedMessage): Promise<Date>;
  /** Removes the message for good. Throws LockLostError if the lock expired. */
  complete(message: LockedMessage): Promise<void>;
  /** Returns the message for redelivery (dead-letters it when that was its last delivery). */
  abandon(message: LockedMessage): Promise<void>;
  deadLetter(message: LockedMessage, reason: { deadLetterReason: string; deadLetterErrorDescription?: string }): Promise<void>;
  /** Reads without locking, oldest first. */
  peek(queueName: string, options: PeekOptions): Promise<PeekedMessage[]>;
  counts(queueName: string): Promise<QueueCounts>;
  /** Ends pending receives (they resolve empty) and releases resources. Idempotent. */
  close(): Promise<void>;
}
