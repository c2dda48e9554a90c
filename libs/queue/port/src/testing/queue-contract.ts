import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { makeTempDir, TsChild } from '@gpu-jobs/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LockLostError, QueueNotFoundError } from '../errors';
import type { LockedMessage, OutgoingMessage, Queue, QueueSettings } from '../queue';
import { loadQueueFactory, type QueueFactory } from './queue-factory';

export interface QueueContractOptions {
  /** Adapter name, shown in test names. */
  name: string;
  /** Absolute path of the module whose default export is a QueueFactory. */
  factoryModule: string;
  /** When set, the whole suite is skipped and this reason printed once. */
  skipReason?: string;
  /** Lock duration the suite asks for. Adapters with a floor (Service Bus: 5 s) pass their floor. */
  lockDurationMs: number;
  /** Duplicate-detection window the suite asks for (Service Bus: at least 20 s). */
  duplicateWindowMs: number;
  /** False when a lock can only be settled by the client that received it (Service Bus); default true. */
  settleAfterReopen?: boolean;
}

const CHILD = fileURLToPath(new URL('./queue-child.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function messages(n: number, prefix = 'm'): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({ messageId: `${prefix}-${i}`, body: { i, ref: `inputs/${prefix}-${i}` } }));
}

/** Receives until `n` messages arrived or the time is up; never loops unbounded. */
async function receiveN(queue: Queue, queueName: string, n: number, timeoutMs = 10_000): Promise<LockedMessage[]> {
  const got: LockedMessage[] = [];
  const until = Date.now() + timeoutMs;
  while (got.length < n && Date.now() < until) {
    got.push(...(await queue.receive(queueName, { maxMessages: n - got.length, maxWaitTimeMs: 500 })));
  }
  return got;
}

/**
 * The behaviour every Queue adapter must have, written once. Run it from the adapter's test file:
 * `describeQueueContract({ name: 'embedded', factoryModule: ..., lockDurationMs: 400, duplicateWindowMs: 500 })`.
 */
export function describeQueueContract(options: QueueContractOptions): void {
  if (options.skipReason) {
    describe.skip(`Queue contract: ${options.name}`, () => it('skipped', () => undefined));
    console.warn(`[contract] SKIPPED Queue contract for ${options.name}: ${options.skipReason}`);
    return;
  }
  const settings: QueueSettings = {
    lockDurationMs: options.lockDurationMs,
    maxDeliveryCount: 3,
    duplicateDetectionWindowMs: options.duplicateWindowMs,
  };

  describe(`Queue contract: ${options.name}`, () => {
    const dir = makeTempDir('queue-contract-');
    let factory: QueueFactory;
    let queue: Queue;
    let name: string;
    const children: TsChild[] = [];

    beforeAll(async () => {
      factory = await loadQueueFactory(options.factoryModule);
    });
    beforeEach(async () => {
      queue = await factory({ dataDir: dir.path });
      name = `contract-${randomUUID().slice(0, 8)}`;
      await queue.ensureQueue(name, settings);
    });
    afterEach(async () => {
      await Promise.all(children.splice(0).map((c) => c.stop()));
      await queue.close();
    });
    afterAll(() => dir.remove());

    const startChild = (mode: 'drain' | 'hold') => {
      const child = TsChild.start(CHILD, { factoryModule: options.factoryModule, dataDir: dir.path, queueName: name, mode });
      children.push(child);
      return child;
    };

    it('ensureQueue keeps the settings of an existing queue', async () => {
      const again = await queue.ensureQueue(name, { lockDurationMs: settings.lockDurationMs * 10 });
      expect(again).toEqual(settings);
    });

    it('delivers a message under a peek-lock with its body, properties and delivery count', async () => {
      const before = Date.now();
      await queue.send(name, {
        messageId: 'a',
        body: { jobId: 'j1', n: [1, 2] },
        applicationProperties: { traceparent: 't', attempt: 0, urgent: true },
      });
      const [m] = await queue.receive(name, { maxMessages: 5, maxWaitTimeMs: 2_000 });
      expect(m).toMatchObject({
        messageId: 'a',
        body: { jobId: 'j1', n: [1, 2] },
        applicationProperties: { traceparent: 't', attempt: 0, urgent: true },
        deliveryCount: 1,
        queueName: name,
        subQueue: 'main',
      });
      expect(m?.lockToken).toEqual(expect.any(String));
      expect(m?.lockedUntil.getTime()).toBeGreaterThanOrEqual(before + settings.lockDurationMs - 50);
      expect(m?.enqueuedTime.getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect(await queue.counts(name)).toMatchObject({ active: 0, locked: 1 });
      await queue.complete(m as LockedMessage);
      expect(await queue.counts(name)).toMatchObject({ active: 0, locked: 0, scheduled: 0, deadLettered: 0 });
    });

    it('receives in order, at most maxMessages at a time', async () => {
      await queue.send(name, messages(10));
      const first = await queue.receive(name, { maxMessages: 4, maxWaitTimeMs: 1_000 });
      expect(first.map((m) => m.messageId)).toEqual(['m-0', 'm-1', 'm-2', 'm-3']);
      const rest = await receiveN(queue, name, 6);
      expect(rest.map((m) => m.messageId)).toEqual(['m-4', 'm-5', 'm-6', 'm-7', 'm-8', 'm-9']);
      await Promise.all([...first, ...rest].map((m) => queue.complete(m)));
    });

    it('waits up to maxWaitTimeMs on an empty queue, and wakes early when a message arrives', async () => {
      let started = Date.now();
      expect(await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 300 })).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);

      started = Date.now();
      setTimeout(() => void queue.send(name, { messageId: 'late', body: 1 }), 200);
      const got = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 10_000 });
      expect(got.map((m) => m.messageId)).toEqual(['late']);
      expect(Date.now() - started).toBeLessThan(5_000);
      await queue.complete(got[0] as LockedMessage);
    });

    it('a receive can be aborted', async () => {
      const ac = new AbortController();
      const started = Date.now();
      setTimeout(() => ac.abort(), 100);
      expect(await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 10_000, abortSignal: ac.signal })).toEqual([]);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('drops a duplicate message id within the window and accepts it after', async () => {
      await queue.send(name, { messageId: 'dup', body: 1 });
      await queue.send(name, [
        { messageId: 'dup', body: 2 },
        { messageId: 'other', body: 3 },
      ]);
      const got = await receiveN(queue, name, 2);
      expect(got.map((m) => [m.messageId, m.body])).toEqual([
        ['dup', 1],
        ['other', 3],
      ]);
      await Promise.all(got.map((m) => queue.complete(m)));
      expect(await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 200 })).toEqual([]);

      await sleep(options.duplicateWindowMs + 100);
      await queue.send(name, { messageId: 'dup', body: 4 });
      const again = await receiveN(queue, name, 1);
      expect(again.map((m) => m.body)).toEqual([4]);
      await queue.complete(again[0] as LockedMessage);
    });

    it('holds a scheduled message until its time', async () => {
      await queue.send(name, { messageId: 's', body: 1, scheduledEnqueueTime: new Date(Date.now() + 600) });
      expect(await queue.counts(name)).toMatchObject({ active: 0, scheduled: 1 });
      expect(await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 100 })).toEqual([]);
      const got = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 5_000 });
      expect(got.map((m) => m.messageId)).toEqual(['s']);
      await queue.complete(got[0] as LockedMessage);
    });

    it('abandon returns the message with its delivery count raised', async () => {
      await queue.send(name, messages(1));
      const [first] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 1_000 });
      await queue.abandon(first as LockedMessage);
      const [second] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 1_000 });
      expect(second?.messageId).toBe('m-0');
      expect(second?.deliveryCount).toBe(2);
      await expect(queue.complete(first as LockedMessage)).rejects.toBeInstanceOf(LockLostError);
      await queue.complete(second as LockedMessage);
    });

    it('dead-letters at the max delivery count with the reason', async () => {
      await queue.send(name, messages(1));
      for (let i = 1; i <= settings.maxDeliveryCount; i++) {
        const [m] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 1_000 });
        expect(m?.deliveryCount).toBe(i);
        await queue.abandon(m as LockedMessage);
      }
      expect(await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 100 })).toEqual([]);
      expect(await queue.counts(name)).toMatchObject({ active: 0, locked: 0, deadLettered: 1 });
      const [dead] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 1_000, subQueue: 'deadLetter' });
      expect(dead).toMatchObject({ messageId: 'm-0', subQueue: 'deadLetter', deadLetterReason: 'MaxDeliveryCountExceeded' });
      await queue.complete(dead as LockedMessage);
      expect(await queue.counts(name)).toMatchObject({ deadLettered: 0 });
    });

    it('dead-letters on request with reason and description', async () => {
      await queue.send(name, messages(1));
      const [m] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 1_000 });
      await queue.deadLetter(m as LockedMessage, { deadLetterReason: 'InputInvalid', deadLetterErrorDescription: 'not an image' });
      const peeked = await queue.peek(name, { maxMessages: 10, subQueue: 'deadLetter' });
      expect(peeked).toMatchObject([{ messageId: 'm-0', deadLetterReason: 'InputInvalid', deadLetterErrorDescription: 'not an image' }]);
      expect(await queue.peek(name, { maxMessages: 10 })).toEqual([]);
    });

    it('an expired lock returns the message; the old lock token is then refused', async () => {
      await queue.send(name, messages(1));
      const [m] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 1_000 });
      await sleep(settings.lockDurationMs + 100);
      await expect(queue.complete(m as LockedMessage)).rejects.toBeInstanceOf(LockLostError);
      const [again] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 2_000 });
      expect(again?.deliveryCount).toBe(2);
      expect(again?.lockToken).not.toBe(m?.lockToken);
      await expect(queue.abandon(m as LockedMessage)).rejects.toBeInstanceOf(LockLostError);
      await expect(queue.renewLock(m as LockedMessage)).rejects.toBeInstanceOf(LockLostError);
      await queue.complete(again as LockedMessage);
    });

    it('renewing the lock keeps the message from being redelivered', async () => {
      await queue.send(name, messages(1));
      const [m] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 1_000 });
      const msg = m as LockedMessage;
      for (let i = 0; i < 3; i++) {
        await sleep(settings.lockDurationMs / 2);
        const until = await queue.renewLock(msg);
        expect(until.getTime()).toBeGreaterThan(Date.now());
        msg.lockedUntil = until;
      }
      expect(await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 50 })).toEqual([]);
      await queue.complete(msg);
    });

    it('peek reads without locking, and counts add up', async () => {
      await queue.send(name, messages(5));
      await queue.send(name, { messageId: 'later', body: 0, scheduledEnqueueTime: new Date(Date.now() + 60_000) });
      await sleep(50);
      const peeked = await queue.peek(name, { maxMessages: 3 });
      expect(peeked.map((m) => m.messageId)).toEqual(['m-0', 'm-1', 'm-2']);
      const locked = await queue.receive(name, { maxMessages: 2, maxWaitTimeMs: 1_000 });
      await queue.deadLetter(locked[1] as LockedMessage, { deadLetterReason: 'r' });
      const counts = await queue.counts(name);
      expect(counts).toMatchObject({ active: 3, locked: 1, scheduled: 1, deadLettered: 1 });
      expect(counts.oldestActiveAgeMs).toBeGreaterThanOrEqual(40);
      await queue.complete(locked[0] as LockedMessage);
    });

    it('an unknown queue is a clear error', async () => {
      await expect(queue.send('no-such-queue', messages(1))).rejects.toBeInstanceOf(QueueNotFoundError);
      await expect(queue.receive('no-such-queue', { maxMessages: 1, maxWaitTimeMs: 0 })).rejects.toBeInstanceOf(QueueNotFoundError);
    });

    it('keeps messages and locks across close and reopen', async () => {
      await queue.send(name, messages(3));
      const [locked] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 1_000 });
      await queue.close();
      queue = await factory({ dataDir: dir.path });
      expect(await queue.counts(name)).toMatchObject({ active: 2, locked: 1 });
      if (options.settleAfterReopen === false) {
        // this broker settles only through the receiver that received the message: the lock must run out
        await expect(queue.complete(locked as LockedMessage)).rejects.toBeInstanceOf(LockLostError);
        await new Promise((r) => setTimeout(r, options.lockDurationMs + 500));
        const again = await receiveN(queue, name, 3);
        await Promise.all(again.map((m) => queue.complete(m)));
        return;
      }
      await queue.complete(locked as LockedMessage); // the lock token is still good
      const rest = await receiveN(queue, name, 2);
      expect(rest.map((m) => m.messageId)).toEqual(['m-1', 'm-2']);
      await Promise.all(rest.map((m) => queue.complete(m)));
    });

    it('close ends a pending receive with no messages', async () => {
      const pending = queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 30_000 });
      await sleep(50);
      await queue.close();
      expect(await pending).toEqual([]);
    });

    it('several OS processes share one queue: every message delivered once, never held twice', async () => {
      const total = 1_000;
      const consumers = [startChild('drain'), startChild('drain'), startChild('drain'), startChild('drain')];
      // every consumer is waiting in receive before the first message goes out, so they compete for all of them
      await Promise.all(consumers.map((c) => c.waitForLine((l) => l['ready'] === true, 30_000)));
      for (let i = 0; i < total; i += 100) await queue.send(name, messages(100, `b${i}`));
      await Promise.all(consumers.map((c) => c.waitForLine((l) => l['done'] === true, 60_000)));
      const received = consumers.flatMap((c) => c.lines.filter((l) => 'received' in l));
      const ids = received.map((l) => l['received'] as string);
      expect(ids).toHaveLength(total);
      expect(new Set(ids).size).toBe(total);
      expect(received.every((l) => l['deliveryCount'] === 1)).toBe(true);
      expect(consumers.filter((c) => c.lines.some((l) => 'received' in l)).length).toBeGreaterThan(1);
      expect(await queue.counts(name)).toMatchObject({ active: 0, locked: 0, deadLettered: 0 });
    }, 90_000);

    it('a consumer killed with SIGKILL loses its lock: the message returns with delivery count + 1, then dead-letters at the max', async () => {
      await queue.send(name, messages(1));
      const holder = startChild('hold');
      const line = await holder.waitForLine((l) => 'locked' in l, 30_000);
      expect(line).toMatchObject({ locked: 'm-0', deliveryCount: 1 });
      await holder.stop('SIGKILL');

      const [back] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: settings.lockDurationMs + 5_000 });
      expect(back).toMatchObject({ messageId: 'm-0', deliveryCount: 2 });
      await queue.abandon(back as LockedMessage);
      const [last] = await queue.receive(name, { maxMessages: 1, maxWaitTimeMs: 2_000 });
      expect(last?.deliveryCount).toBe(settings.maxDeliveryCount);
      await queue.abandon(last as LockedMessage);
      expect(await queue.counts(name)).toMatchObject({ active: 0, locked: 0, deadLettered: 1 });
      const [dead] = await queue.peek(name, { maxMessages: 1, subQueue: 'deadLetter' });
      expect(dead?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    }, 60_000);
  });
}
