import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ChangeSignal, immediate, openDatabase, type SynchronousMode } from '@gpu-jobs/embedded-sqlite';
import {
  DEFAULT_QUEUE_SETTINGS,
  LockLostError,
  QueueClosedError,
  QueueError,
  QueueNotFoundError,
  type LockedMessage,
  type OutgoingMessage,
  type PeekedMessage,
  type PeekOptions,
  type PropertyValue,
  type Queue,
  type QueueCounts,
  type QueueSettings,
  type ReceiveOptions,
  type SubQueue,
} from '@gpu-jobs/queue';
import { QUEUE_MIGRATIONS } from './schema';

export interface EmbeddedQueueOptions {
  /** Folder of the platform's data; the queue lives in `<dataDir>/queue.db`. */
  dataDir: string;
  synchronous?: SynchronousMode;
  /** Upper bound of one sleep while waiting, in case a file-change event is missed. */
  maxSleepMs?: number;
}

interface MessageRow {
  seq: number;
  queue: string;
  dead_letter: number;
  message_id: string;
  body: string;
  properties: string | null;
  enqueued_at: number;
  available_at: number;
  delivery_count: number;
  lock_token: string | null;
  dead_letter_reason: string | null;
  dead_letter_description: string | null;
}

interface SettingsRow {
  lock_duration_ms: number;
  max_delivery_count: number;
  duplicate_window_ms: number;
}

const MAX_BATCH = 256;

/**
 * A Service Bus-like queue in one SQLite file. Any number of processes may open the same file:
 * every state change is a single write transaction, and lock tokens make settles conditional.
 */
export class EmbeddedQueue implements Queue {
  private readonly db: DatabaseSync;
  private readonly signal: ChangeSignal;
  private readonly closing = new AbortController();
  private readonly settingsCache = new Map<string, QueueSettings>();
  private readonly maxSleepMs: number;
  private readonly sql: Statements;

  private constructor(options: EmbeddedQueueOptions) {
    const path = join(options.dataDir, 'queue.db');
    this.db = openDatabase({ path, migrations: QUEUE_MIGRATIONS, synchronous: options.synchronous });
    this.signal = new ChangeSignal(path);
    this.maxSleepMs = options.maxSleepMs ?? 1_000;
    this.sql = prepareStatements(this.db);
  }

  /** Opens (creating or migrating) `<dataDir>/queue.db`. */
  static open(options: EmbeddedQueueOptions): EmbeddedQueue {
    return new EmbeddedQueue(options);
  }

  async ensureQueue(queueName: string, settings: Partial<QueueSettings> = {}): Promise<QueueSettings> {
    this.assertOpen();
    const s = { ...DEFAULT_QUEUE_SETTINGS, ...settings };
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/.test(queueName)) throw new RangeError(`invalid queue name: ${JSON.stringify(queueName)}`);
    for (const [key, value] of Object.entries(s)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`queue setting ${key} must be a positive integer, got ${value}`);
    }
    this.sql.insertQueue.run(queueName, s.lockDurationMs, s.maxDeliveryCount, s.duplicateDetectionWindowMs);
    return this.settings(queueName);
  }

  async send(queueName: string, input: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    const batch = Array.isArray(input) ? input : [input];
    const settings = this.settings(queueName);
    const rows = batch.map((m) => {
      if (typeof m.messageId !== 'string' || m.messageId.length === 0 || m.messageId.length > 128) {
        throw new QueueError('InvalidMessage', 'messageId must be a string of 1 to 128 characters');
      }
      const body = JSON.stringify(m.body);
      if (body === undefined) throw new QueueError('InvalidMessage', `message ${m.messageId} has no JSON body`);
      return { m, body, properties: m.applicationProperties ? JSON.stringify(m.applicationProperties) : null };
    });
    const now = Date.now();
    immediate(this.db, () => {
      this.sql.pruneSeen.run(queueName, now);
      for (const { m, body, properties } of rows) {
        const fresh = this.sql.insertSeen.run(queueName, m.messageId, now + settings.duplicateDetectionWindowMs).changes > 0;
        if (!fresh) continue; // a duplicate within the window: dropped, as Service Bus does
        const at = Math.max(now, m.scheduledEnqueueTime?.getTime() ?? now);
        this.sql.insertMessage.run(queueName, m.messageId, body, properties, at, at);
      }
    });
    this.signal.notify();
  }

  async receive(queueName: string, options: ReceiveOptions): Promise<LockedMessage[]> {
    this.assertOpen();
    const settings = this.settings(queueName);
    if (!Number.isInteger(options.maxMessages) || options.maxMessages < 1) throw new RangeError('maxMessages must be a positive integer');
    const max = Math.min(options.maxMessages, MAX_BATCH);
    const subQueue = options.subQueue ?? 'main';
    const deadLetter = subQueue === 'deadLetter' ? 1 : 0;
    const stop = options.abortSignal ? AbortSignal.any([options.abortSignal, this.closing.signal]) : this.closing.signal;
    const deadline = Date.now() + Math.max(0, options.maxWaitTimeMs);

    for (;;) {
      if (stop.aborted) return [];
      const seen = this.signal.version; // before looking, so a send right after the look still wakes us
      const got = this.tryReceive(queueName, settings, subQueue, deadLetter, max);
      if (got.length > 0) return got;
      const now = Date.now();
      if (now >= deadline) return [];
      // sleep until a write anywhere, the next scheduled message or lock expiry, or the deadline
      const next = (this.sql.nextAvailable.get(queueName, deadLetter, now) as { t: number | null }).t;
      const sleep = Math.min(deadline - now, next === null ? Infinity : next - now, this.maxSleepMs);
      await this.signal.wait(Math.max(1, sleep), stop, seen);
    }
  }

  private tryReceive(queueName: string, settings: QueueSettings, subQueue: SubQueue, deadLetter: number, max: number): LockedMessage[] {
    const rows = immediate(this.db, () => {
      for (;;) {
        const now = Date.now();
        const candidates = this.sql.candidates.all(queueName, deadLetter, now, max) as { seq: number; delivery_count: number }[];
        // A message already delivered maxDeliveryCount times goes to the dead-letter queue, not to a consumer.
        const spent = deadLetter ? [] : candidates.filter((c) => c.delivery_count >= settings.maxDeliveryCount).map((c) => c.seq);
        if (spent.length > 0) this.sql.expire.run(now, JSON.stringify(spent));
        const deliver = candidates.filter((c) => !spent.includes(c.seq)).map((c) => c.seq);
        if (deliver.length > 0) return this.sql.lock.all(now + settings.lockDurationMs, JSON.stringify(deliver)) as unknown as MessageRow[];
        if (spent.length === 0) return [];
      }
    });
    return rows.sort((a, b) => a.seq - b.seq).map((row) => this.toLocked(row, subQueue));
  }

  async renewLock(message: LockedMessage): Promise<Date> {
    this.assertOpen();
    const settings = this.settings(message.queueName);
    const now = Date.now();
    const row = this.sql.renew.get(now + settings.lockDurationMs, message.sequenceNumber, message.lockToken, dl(message), now) as
      { available_at: number } | undefined;
    if (!row) throw new LockLostError(message.queueName, message.messageId);
    return new Date(row.available_at);
  }

  async complete(message: LockedMessage): Promise<void> {
    this.assertOpen();
    const { changes } = this.sql.complete.run(message.sequenceNumber, message.lockToken, dl(message), Date.now());
    if (changes === 0) throw new LockLostError(message.queueName, message.messageId);
  }

  async abandon(message: LockedMessage): Promise<void> {
    this.assertOpen();
    const settings = this.settings(message.queueName);
    immediate(this.db, () => {
      const now = Date.now();
      const row = this.sql.held.get(message.sequenceNumber, message.lockToken, dl(message), now) as { delivery_count: number } | undefined;
      if (!row) throw new LockLostError(message.queueName, message.messageId);
      if (message.subQueue === 'main' && row.delivery_count >= settings.maxDeliveryCount) {
        this.sql.expire.run(now, JSON.stringify([message.sequenceNumber]));
      } else {
        this.sql.release.run(now, message.sequenceNumber);
      }
    });
    this.signal.notify();
  }

  async deadLetter(message: LockedMessage, reason: { deadLetterReason: string; deadLetterErrorDescription?: string }): Promise<void> {
    this.assertOpen();
    if (message.subQueue === 'deadLetter') throw new QueueError('InvalidMessage', 'a dead-lettered message cannot be dead-lettered again');
    const now = Date.now();
    const { changes } = this.sql.deadLetter.run(
      now,
      reason.deadLetterReason,
      reason.deadLetterErrorDescription ?? null,
      message.sequenceNumber,
      message.lockToken,
      now,
    );
    if (changes === 0) throw new LockLostError(message.queueName, message.messageId);
  }

  async peek(queueName: string, options: PeekOptions): Promise<PeekedMessage[]> {
    this.assertOpen();
    this.settings(queueName);
    const rows = this.sql.peek.all(
      queueName,
      options.subQueue === 'deadLetter' ? 1 : 0,
      Math.max(1, options.maxMessages),
    ) as unknown as MessageRow[];
    return rows.map((row) => toPeeked(row));
  }

  async counts(queueName: string): Promise<QueueCounts> {
    this.assertOpen();
    this.settings(queueName);
    const now = Date.now();
    const row = this.sql.counts.get({ now, queue: queueName }) as {
      active: number;
      locked: number;
      scheduled: number;
      dead_lettered: number;
      oldest: number | null;
    };
    return {
      active: row.active,
      locked: row.locked,
      scheduled: row.scheduled,
      deadLettered: row.dead_lettered,
      oldestActiveAgeMs: row.oldest === null ? 0 : Math.max(0, now - row.oldest),
    };
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.signal.close();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw new QueueClosedError();
  }

  /** Settings never change after creation, so a found queue is cached; a missing one is looked up again. */
  private settings(queueName: string): QueueSettings {
    const cached = this.settingsCache.get(queueName);
    if (cached) return cached;
    const row = this.sql.selectQueue.get(queueName) as SettingsRow | undefined;
    if (!row) throw new QueueNotFoundError(queueName);
    const settings = {
      lockDurationMs: row.lock_duration_ms,
      maxDeliveryCount: row.max_delivery_count,
      duplicateDetectionWindowMs: row.duplicate_window_ms,
    };
    this.settingsCache.set(queueName, settings);
    return settings;
  }

  private toLocked(row: MessageRow, subQueue: SubQueue): LockedMessage {
    return {
      ...toPeeked(row),
      queueName: row.queue,
      subQueue,
      lockToken: row.lock_token as string,
      lockedUntil: new Date(row.available_at),
    };
  }
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(db: DatabaseSync) {
  return {
    insertQueue: db.prepare(
      'INSERT INTO queues (name, lock_duration_ms, max_delivery_count, duplicate_window_ms) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
    ),
    selectQueue: db.prepare('SELECT lock_duration_ms, max_delivery_count, duplicate_window_ms FROM queues WHERE name = ?'),
    pruneSeen: db.prepare('DELETE FROM seen_message_ids WHERE queue = ? AND expires_at <= ?'),
    insertSeen: db.prepare('INSERT INTO seen_message_ids (queue, message_id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    insertMessage: db.prepare(
      'INSERT INTO messages (queue, message_id, body, properties, enqueued_at, available_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    candidates: db.prepare(
      'SELECT seq, delivery_count FROM messages WHERE queue = ? AND dead_letter = ? AND available_at <= ? ORDER BY seq LIMIT ?',
    ),
    lock: db.prepare(
      `UPDATE messages SET lock_token = lower(hex(randomblob(16))), available_at = ?, delivery_count = delivery_count + 1
       WHERE seq IN (SELECT value FROM json_each(?)) RETURNING *`,
    ),
    expire: db.prepare(
      `UPDATE messages SET dead_letter = 1, lock_token = NULL, available_at = ?,
         dead_letter_reason = 'MaxDeliveryCountExceeded', dead_letter_description = 'delivered ' || delivery_count || ' times'
       WHERE seq IN (SELECT value FROM json_each(?))`,
    ),
    nextAvailable: db.prepare('SELECT MIN(available_at) AS t FROM messages WHERE queue = ? AND dead_letter = ? AND available_at > ?'),
    held: db.prepare('SELECT delivery_count FROM messages WHERE seq = ? AND lock_token = ? AND dead_letter = ? AND available_at > ?'),
    complete: db.prepare('DELETE FROM messages WHERE seq = ? AND lock_token = ? AND dead_letter = ? AND available_at > ?'),
    release: db.prepare('UPDATE messages SET lock_token = NULL, available_at = ? WHERE seq = ?'),
    renew: db.prepare(
      'UPDATE messages SET available_at = ? WHERE seq = ? AND lock_token = ? AND dead_letter = ? AND available_at > ? RETURNING available_at',
    ),
    deadLetter: db.prepare(
      `UPDATE messages SET dead_letter = 1, lock_token = NULL, available_at = ?, dead_letter_reason = ?, dead_letter_description = ?
       WHERE seq = ? AND lock_token = ? AND dead_letter = 0 AND available_at > ?`,
    ),
    peek: db.prepare('SELECT * FROM messages WHERE queue = ? AND dead_letter = ? ORDER BY seq LIMIT ?'),
    counts: db.prepare(
      `SELECT
         COALESCE(SUM(dead_letter = 0 AND available_at <= $now), 0) AS active,
         COALESCE(SUM(dead_letter = 0 AND available_at > $now AND lock_token IS NOT NULL), 0) AS locked,
         COALESCE(SUM(dead_letter = 0 AND available_at > $now AND lock_token IS NULL), 0) AS scheduled,
         COALESCE(SUM(dead_letter = 1), 0) AS dead_lettered,
         MIN(CASE WHEN dead_letter = 0 AND available_at <= $now THEN enqueued_at END) AS oldest
       FROM messages WHERE queue = $queue`,
    ),
  } satisfies Record<string, StatementSync>;
}

function dl(message: LockedMessage): number {
  return message.subQueue === 'deadLetter' ? 1 : 0;
}

function toPeeked(row: MessageRow): PeekedMessage {
  const peeked: PeekedMessage = {
    messageId: row.message_id,
    body: JSON.parse(row.body) as unknown,
    applicationProperties: row.properties ? (JSON.parse(row.properties) as Record<string, PropertyValue>) : {},
    sequenceNumber: row.seq,
    enqueuedTime: new Date(row.enqueued_at),
    deliveryCount: row.delivery_count,
  };
  if (row.dead_letter_reason !== null) peeked.deadLetterReason = row.dead_letter_reason;
  if (row.dead_letter_description !== null) peeked.deadLetterErrorDescription = row.dead_letter_description;
  return peeked;
}
