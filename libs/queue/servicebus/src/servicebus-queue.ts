import Long from 'long';
import {
  ServiceBusAdministrationClient,
  ServiceBusClient,
  isServiceBusError,
  type ServiceBusClientOptions,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusSender,
} from '@azure/service-bus';
import type { TokenCredential } from '@azure/core-auth';
import {
  DEFAULT_QUEUE_SETTINGS,
  LockLostError,
  QueueClosedError,
  QueueError,
  type LockedMessage,
  type OutgoingMessage,
  type PeekedMessage,
  type PeekOptions,
  type Queue,
  type QueueCounts,
  type QueueSettings,
  type ReceiveOptions,
  type SubQueue,
} from '@gpu-jobs/queue';
import { countsFromRuntime } from './counts';
import { classify, toPortError } from './errors';
import { isoDuration, parseIsoDuration, toLocked, toPeeked, toServiceBusMessage } from './message-mapping';

export interface ServiceBusQueueOptions {
  /** A connection string (local use) or the namespace host (`<name>.servicebus.windows.net`) with a token credential. */
  connection: { connectionString: string } | { fullyQualifiedNamespace: string; credential: TokenCredential };
  /**
   * Create missing queues with the settings ensureQueue is given (needs Manage rights: Azure Service Bus Data
   * Owner). Off in production, where infra/ provisions the queues and ensureQueue only reports the settings.
   */
  manageQueues?: boolean;
  /** The SDK's retries for transient errors (busy, timeouts, dropped connections). */
  retry?: { maxRetries: number; retryDelayInMs: number; maxRetryDelayInMs: number; timeoutInMs: number };
}

export const DEFAULT_RETRY = { maxRetries: 5, retryDelayInMs: 500, maxRetryDelayInMs: 30_000, timeoutInMs: 60_000 };

interface Held {
  receiver: ServiceBusReceiver;
  message: ServiceBusReceivedMessage;
}

/**
 * The queue port on Azure Service Bus: one queue per lane with its dead-letter sub-queue, peek-lock receives
 * with explicit lock renewal (the worker renews at half the remaining lock, bounded by the job's timeout;
 * the SDK's auto-renewal is off so there is one renewal policy), complete / abandon / dead-letter with reason,
 * scheduled messages, duplicate detection by message id (the job id), batched sends.
 *
 * Differences from the embedded queue, by Service Bus design: a message can only be settled through the
 * receiver that received it (a lock held by a closed client cannot be settled; it expires and the message
 * returns), and a send of more than one batch (256 KB Standard, 1 MB+ Premium) is not atomic across batches.
 */
export class ServiceBusQueue implements Queue {
  private readonly client: ServiceBusClient;
  private readonly admin: ServiceBusAdministrationClient;
  private readonly senders = new Map<string, ServiceBusSender>();
  private readonly receivers = new Map<string, ServiceBusReceiver>();
  private readonly held = new Map<string, Held>();
  private readonly settingsCache = new Map<string, QueueSettings>();
  private readonly closing = new AbortController();

  constructor(private readonly options: ServiceBusQueueOptions) {
    const retryOptions = { ...DEFAULT_RETRY, ...options.retry };
    const clientOptions: ServiceBusClientOptions = { retryOptions };
    if ('connectionString' in options.connection) {
      this.client = new ServiceBusClient(options.connection.connectionString, clientOptions);
      this.admin = new ServiceBusAdministrationClient(options.connection.connectionString);
    } else {
      this.client = new ServiceBusClient(options.connection.fullyQualifiedNamespace, options.connection.credential, clientOptions);
      this.admin = new ServiceBusAdministrationClient(options.connection.fullyQualifiedNamespace, options.connection.credential);
    }
  }

  async ensureQueue(queueName: string, settings: Partial<QueueSettings> = {}): Promise<QueueSettings> {
    this.assertOpen();
    const wanted = { ...DEFAULT_QUEUE_SETTINGS, ...settings };
    if (!this.options.manageQueues) {
      this.settingsCache.set(queueName, wanted);
      return wanted;
    }
    try {
      if (!(await this.admin.queueExists(queueName))) {
        await this.admin.createQueue(queueName, {
          lockDuration: isoDuration(wanted.lockDurationMs),
          maxDeliveryCount: wanted.maxDeliveryCount,
          requiresDuplicateDetection: true,
          duplicateDetectionHistoryTimeWindow: isoDuration(wanted.duplicateDetectionWindowMs),
          deadLetteringOnMessageExpiration: true,
        });
      }
    } catch (err) {
      if (!(isServiceBusError(err) && err.code === 'MessagingEntityAlreadyExists')) throw err;
    }
    const props = await this.admin.getQueue(queueName);
    const actual: QueueSettings = {
      lockDurationMs: parseIsoDuration(props.lockDuration),
      maxDeliveryCount: props.maxDeliveryCount,
      duplicateDetectionWindowMs: parseIsoDuration(props.duplicateDetectionHistoryTimeWindow),
    };
    this.settingsCache.set(queueName, actual);
    return actual;
  }

  private sender(queueName: string): ServiceBusSender {
    let s = this.senders.get(queueName);
    if (!s) {
      s = this.client.createSender(queueName);
      this.senders.set(queueName, s);
    }
    return s;
  }

  private receiver(queueName: string, subQueue: SubQueue): ServiceBusReceiver {
    const key = `${queueName}|${subQueue}`;
    let r = this.receivers.get(key);
    if (!r) {
      r = this.client.createReceiver(queueName, {
        receiveMode: 'peekLock',
        maxAutoLockRenewalDurationInMs: 0,
        ...(subQueue === 'deadLetter' ? { subQueueType: 'deadLetter' as const } : {}),
      });
      this.receivers.set(key, r);
    }
    return r;
  }

  async send(queueName: string, input: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    const messages = (Array.isArray(input) ? input : [input]).map((m) => {
      if (typeof m.messageId !== 'string' || m.messageId.length === 0 || m.messageId.length > 128) {
        throw new QueueError('InvalidMessage', 'messageId must be a string of 1 to 128 characters');
      }
      if (JSON.stringify(m.body) === undefined) throw new QueueError('InvalidMessage', `message ${m.messageId} has no JSON body`);
      return toServiceBusMessage(m);
    });
    const sender = this.sender(queueName);
    try {
      let batch = await sender.createMessageBatch();
      for (const m of messages) {
        if (batch.tryAddMessage(m)) continue;
        if (batch.count === 0) throw new QueueError('InvalidMessage', `message ${String(m.messageId)} is larger than a batch`);
        await sender.sendMessages(batch);
        batch = await sender.createMessageBatch();
        if (!batch.tryAddMessage(m)) throw new QueueError('InvalidMessage', `message ${String(m.messageId)} is larger than a batch`);
      }
      if (batch.count > 0) await sender.sendMessages(batch);
    } catch (err) {
      throw toPortError(err, queueName);
    }
  }

  async receive(queueName: string, options: ReceiveOptions): Promise<LockedMessage[]> {
    this.assertOpen();
    if (!Number.isInteger(options.maxMessages) || options.maxMessages < 1) throw new RangeError('maxMessages must be a positive integer');
    const subQueue = options.subQueue ?? 'main';
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, this.closing.signal]) : this.closing.signal;
    if (signal.aborted) return [];
    this.forgetExpired();
    const receiver = this.receiver(queueName, subQueue);
    let got: ServiceBusReceivedMessage[];
    try {
      got = await receiver.receiveMessages(options.maxMessages, {
        maxWaitTimeInMs: Math.max(1, options.maxWaitTimeMs),
        abortSignal: signal,
      });
    } catch (err) {
      if (signal.aborted || (err as Error)?.name === 'AbortError') return [];
      throw toPortError(err, queueName);
    }
    return got.map((message) => {
      const locked = toLocked(message, queueName, subQueue);
      this.held.set(locked.lockToken, { receiver, message });
      return locked;
    });
  }

  private take(message: LockedMessage): Held {
    const held = this.held.get(message.lockToken);
    if (!held) throw new LockLostError(message.queueName, message.messageId);
    return held;
  }

  async renewLock(message: LockedMessage): Promise<Date> {
    this.assertOpen();
    const { receiver, message: sb } = this.take(message);
    try {
      return await receiver.renewMessageLock(sb);
    } catch (err) {
      if (classify(err) === 'lock-lost') this.held.delete(message.lockToken);
      throw toPortError(err, message.queueName, message.messageId);
    }
  }

  private async settle(message: LockedMessage, how: (r: ServiceBusReceiver, m: ServiceBusReceivedMessage) => Promise<void>): Promise<void> {
    this.assertOpen();
    const { receiver, message: sb } = this.take(message);
    try {
      await how(receiver, sb);
      this.held.delete(message.lockToken);
    } catch (err) {
      if (classify(err) === 'lock-lost') this.held.delete(message.lockToken);
      throw toPortError(err, message.queueName, message.messageId);
    }
  }

  complete(message: LockedMessage): Promise<void> {
    return this.settle(message, (r, m) => r.completeMessage(m));
  }

  abandon(message: LockedMessage): Promise<void> {
    return this.settle(message, (r, m) => r.abandonMessage(m));
  }

  deadLetter(message: LockedMessage, reason: { deadLetterReason: string; deadLetterErrorDescription?: string }): Promise<void> {
    if (message.subQueue === 'deadLetter') {
      return Promise.reject(new QueueError('InvalidMessage', 'a dead-lettered message cannot be dead-lettered again'));
    }
    const options: { deadLetterReason: string; deadLetterErrorDescription: string } = {
      deadLetterReason: reason.deadLetterReason,
      deadLetterErrorDescription: reason.deadLetterErrorDescription ?? '',
    };
    return this.settle(message, (r, m) => r.deadLetterMessage(m, options));
  }

  /** From the first message on (a peek does not lock); one AMQP request. */
  async peek(queueName: string, options: PeekOptions): Promise<PeekedMessage[]> {
    this.assertOpen();
    try {
      const got = await this.receiver(queueName, options.subQueue ?? 'main').peekMessages(Math.max(1, options.maxMessages), {
        fromSequenceNumber: Long.ZERO,
      });
      return got.map(toPeeked);
    } catch (err) {
      throw toPortError(err, queueName);
    }
  }

  /**
   * One management request (getQueueRuntimeProperties: throttled on the Standard tier, so the scaler calls it
   * every 30 s, not per job; it needs Manage rights or the Data Owner role) and one peek for the oldest age.
   */
  async counts(queueName: string): Promise<QueueCounts> {
    this.assertOpen();
    try {
      const runtime = await this.admin.getQueueRuntimeProperties(queueName);
      const [first] = runtime.activeMessageCount > 0 ? await this.peek(queueName, { maxMessages: 1 }) : [];
      return countsFromRuntime(runtime, first?.enqueuedTime, Date.now());
    } catch (err) {
      throw toPortError(err, queueName);
    }
  }

  /** Receivers first (pending receives end empty), then senders, then the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    await Promise.allSettled([...this.receivers.values()].map((r) => r.close()));
    await Promise.allSettled([...this.senders.values()].map((s) => s.close()));
    await this.client.close();
    this.held.clear();
  }

  /** Held messages whose lock ran out long ago cannot be settled any more: drop them. */
  private forgetExpired(): void {
    const cutoff = Date.now() - 60_000;
    for (const [token, h] of this.held) {
      if ((h.message.lockedUntilUtc?.getTime() ?? 0) < cutoff) this.held.delete(token);
    }
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw new QueueClosedError();
  }
}
