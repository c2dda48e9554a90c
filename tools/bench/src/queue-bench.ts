import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@gpu-jobs/embedded-sqlite';
import type { OutgoingMessage } from '@gpu-jobs/queue';
import { EmbeddedQueue } from '@gpu-jobs/queue-embedded';
import { makeTempDir, TsChild } from '@gpu-jobs/testing';

export interface QueueBenchOptions {
  messages: number;
  /** Messages per send and per receive. */
  batch: number;
}

const CONSUMER = fileURLToPath(new URL('./queue-consumer.ts', import.meta.url));

/** A job message as the gateway will send it: references only. */
function messageBatch(from: number, count: number): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    messageId: `job-${from + i}`,
    body: {
      jobId: `job-${from + i}`,
      tenantId: 'acme',
      model: 'ocr-en',
      lane: 'small-gpu',
      inputRef: `inputs/acme/job-${from + i}`,
      priority: 'normal',
      attempt: 0,
    },
    applicationProperties: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  }));
}

/**
 * Baseline: the least a SQLite-backed queue must do for the same messages, with the same pragmas:
 * insert the same rows in the same batches, then delete each by primary key in its own commit.
 */
export function rawSqliteBaseline(options: QueueBenchOptions): number {
  const dir = makeTempDir('bench-raw-');
  try {
    const db = openDatabase({
      path: join(dir.path, 'raw.db'),
      migrations: [
        'CREATE TABLE m (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, body TEXT NOT NULL, properties TEXT, at INTEGER NOT NULL)',
      ],
    });
    const insert = db.prepare('INSERT INTO m (message_id, body, properties, at) VALUES (?, ?, ?, ?)');
    const remove = db.prepare('DELETE FROM m WHERE seq = ?');
    const started = performance.now();
    for (let i = 0; i < options.messages; i += options.batch) {
      db.exec('BEGIN IMMEDIATE');
      for (const m of messageBatch(i, Math.min(options.batch, options.messages - i))) {
        insert.run(m.messageId, JSON.stringify(m.body), JSON.stringify(m.applicationProperties), Date.now());
      }
      db.exec('COMMIT');
    }
    const seqs = db.prepare('SELECT seq FROM m ORDER BY seq').all() as { seq: number }[];
    for (const { seq } of seqs) remove.run(seq);
    const seconds = (performance.now() - started) / 1000;
    db.close();
    return options.messages / seconds;
  } finally {
    dir.remove();
  }
}

/** Sends all messages, then one consumer in this process receives and completes them. */
export async function embeddedQueueOneConsumer(options: QueueBenchOptions): Promise<number> {
  const dir = makeTempDir('bench-queue-');
  const queue = EmbeddedQueue.open({ dataDir: dir.path });
  try {
    await queue.ensureQueue('bench');
    const started = performance.now();
    for (let i = 0; i < options.messages; i += options.batch)
      await queue.send('bench', messageBatch(i, Math.min(options.batch, options.messages - i)));
    let done = 0;
    while (done < options.messages) {
      const got = await queue.receive('bench', { maxMessages: options.batch, maxWaitTimeMs: 1_000 });
      if (got.length === 0) throw new Error(`queue ran dry after ${done} of ${options.messages}`);
      for (const m of got) await queue.complete(m);
      done += got.length;
    }
    return options.messages / ((performance.now() - started) / 1000);
  } finally {
    await queue.close();
    dir.remove();
  }
}

/** Four consumer processes wait on the queue; this process sends; the clock stops at the last complete. */
export async function embeddedQueueConsumerProcesses(options: QueueBenchOptions, consumers: number): Promise<number> {
  const dir = makeTempDir('bench-queue-mp-');
  const queue = EmbeddedQueue.open({ dataDir: dir.path });
  const children: TsChild[] = [];
  try {
    await queue.ensureQueue('bench');
    for (let c = 0; c < consumers; c++)
      children.push(TsChild.start(CONSUMER, { dataDir: dir.path, queueName: 'bench', batch: options.batch }));
    await Promise.all(children.map((c) => c.waitForLine((l) => l['ready'] === true, 30_000)));
    const startedAt = Date.now();
    for (let i = 0; i < options.messages; i += options.batch)
      await queue.send('bench', messageBatch(i, Math.min(options.batch, options.messages - i)));
    await queue.send(
      'bench',
      Array.from({ length: consumers }, (_, c) => ({ messageId: `stop-${c}`, body: { stop: true } })),
    );
    const reports = await Promise.all(children.map((c) => c.waitForLine((l) => l['done'] === true, 120_000)));
    const total = reports.reduce((n, r) => n + (r['count'] as number), 0);
    if (total !== options.messages) throw new Error(`consumers completed ${total} of ${options.messages}`);
    const endedAt = Math.max(...reports.map((r) => r['lastCompleteAt'] as number));
    return options.messages / ((endedAt - startedAt) / 1000);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await queue.close();
    dir.remove();
  }
}
