import { fileURLToPath } from 'node:url';
import Long from 'long';
import { ServiceBusError, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { LockLostError, QueueError, QueueNotFoundError } from '@gpu-jobs/queue';
import { describeQueueContract } from '@gpu-jobs/queue/testing';
import { describe, expect, it } from 'vitest';
import { countsFromRuntime } from './counts';
import { classify, toPortError } from './errors';
import { isoDuration, parseIsoDuration, toLocked, toServiceBusMessage } from './message-mapping';
import { serviceBusSettingsFromEnv } from './servicebus-queue.factory';

// The shared contract against a real Service Bus namespace when its settings are present. Its floors: a lock
// of at least 5 s and a duplicate-detection window of at least 20 s.
describeQueueContract({
  name: 'Azure Service Bus',
  factoryModule: fileURLToPath(new URL('./servicebus-queue.factory.ts', import.meta.url)),
  lockDurationMs: 5_000,
  duplicateWindowMs: 20_000,
  settleAfterReopen: false,
  ...(serviceBusSettingsFromEnv()
    ? {}
    : { skipReason: 'SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE is not set (no Service Bus namespace is reachable here)' }),
});

const received = (overrides: Partial<ServiceBusReceivedMessage> = {}): ServiceBusReceivedMessage =>
  ({
    messageId: 'job-1',
    body: { jobId: 'job-1' },
    applicationProperties: { tenantId: 'acme', priority: 'high', nested: { no: 1 } },
    sequenceNumber: Long.fromNumber(42),
    enqueuedTimeUtc: new Date('2026-01-01T00:00:00.000Z'),
    deliveryCount: 2,
    lockToken: 'lock-1',
    lockedUntilUtc: new Date('2026-01-01T00:01:00.000Z'),
    state: 'active',
    ...overrides,
  }) as ServiceBusReceivedMessage;

describe('Service Bus message mapping', () => {
  it('sends the job id as messageId (duplicate detection), JSON, properties, trace context and schedule', () => {
    const at = new Date('2026-01-01T00:05:00.000Z');
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(
      toServiceBusMessage({
        messageId: 'job-1',
        body: { jobId: 'job-1', traceparent },
        applicationProperties: { tenantId: 'acme' },
        scheduledEnqueueTime: at,
      }),
    ).toEqual({
      messageId: 'job-1',
      body: { jobId: 'job-1', traceparent },
      contentType: 'application/json',
      applicationProperties: { tenantId: 'acme', traceparent, 'Diagnostic-Id': traceparent },
      scheduledEnqueueTimeUtc: at,
    });
    expect(toServiceBusMessage({ messageId: 'm', body: 1 })).toEqual({
      messageId: 'm',
      body: 1,
      contentType: 'application/json',
      applicationProperties: {},
    });
  });

  it('maps a received message to the port, keeping only scalar properties', () => {
    expect(toLocked(received(), 'small-gpu', 'main')).toEqual({
      messageId: 'job-1',
      body: { jobId: 'job-1' },
      applicationProperties: { tenantId: 'acme', priority: 'high' },
      sequenceNumber: 42,
      enqueuedTime: new Date('2026-01-01T00:00:00.000Z'),
      deliveryCount: 2,
      queueName: 'small-gpu',
      subQueue: 'main',
      lockToken: 'lock-1',
      lockedUntil: new Date('2026-01-01T00:01:00.000Z'),
    });
    const dead = toLocked(received({ deadLetterReason: 'MaxDeliveryCountExceeded', deadLetterErrorDescription: '10' }), 'q', 'deadLetter');
    expect(dead).toMatchObject({ deadLetterReason: 'MaxDeliveryCountExceeded', deadLetterErrorDescription: '10', subQueue: 'deadLetter' });
    expect(() => toLocked(received({ lockToken: undefined }), 'q', 'main')).toThrow(/lock token/);
  });

  it('writes and reads ISO 8601 durations for the administration API', () => {
    expect([5_000, 60_000, 600_000, 3_600_000, 5_430_000].map(isoDuration)).toEqual(['PT5S', 'PT1M', 'PT10M', 'PT1H', 'PT1H30M30S']);
    expect(['PT5S', 'PT1M', 'PT10M', 'P1D', 'PT1H30M30S', 'PT0.5S'].map(parseIsoDuration)).toEqual([
      5_000, 60_000, 600_000, 86_400_000, 5_430_000, 500,
    ]);
    expect(() => parseIsoDuration('5 minutes')).toThrow(RangeError);
  });
});

describe('Service Bus error classification', () => {
  const sbError = (code: string, retryable = false) => {
    const e = new ServiceBusError('x', code as never);
    (e as { retryable: boolean }).retryable = retryable;
    return e;
  };

  it.each([
    ['MessageLockLost', 'lock-lost'],
    ['SessionLockLost', 'lock-lost'],
    ['MessageNotFound', 'lock-lost'],
    ['MessagingEntityNotFound', 'not-found'],
    ['ServiceBusy', 'transient'],
    ['ServiceTimeout', 'transient'],
    ['ServiceCommunicationProblem', 'transient'],
    ['UnauthorizedAccess', 'permanent'],
    ['QuotaExceeded', 'permanent'],
    ['MessageSizeExceeded', 'permanent'],
  ])('%s is %s', (code, want) => {
    expect(classify(sbError(code))).toBe(want);
  });

  it('a general error follows its retryable flag; other errors by status or socket code', () => {
    expect(classify(sbError('GeneralError', true))).toBe('transient');
    expect(classify(sbError('GeneralError', false))).toBe('permanent');
    expect(classify({ statusCode: 503 })).toBe('transient');
    expect(classify({ statusCode: 429 })).toBe('transient');
    expect(classify({ statusCode: 404 })).toBe('not-found');
    expect(classify({ statusCode: 401 })).toBe('permanent');
    expect(classify({ code: 'ECONNRESET' })).toBe('transient');
    expect(classify(new Error('boom'))).toBe('permanent');
  });

  it('maps to the port errors handlers already know', () => {
    expect(toPortError(sbError('MessageLockLost'), 'q', 'm')).toBeInstanceOf(LockLostError);
    expect(toPortError(sbError('MessagingEntityNotFound'), 'q')).toBeInstanceOf(QueueNotFoundError);
    expect(toPortError(sbError('MessageSizeExceeded'), 'q')).toMatchObject({ code: 'InvalidMessage' });
    expect(toPortError(sbError('MessageSizeExceeded'), 'q')).toBeInstanceOf(QueueError);
    const busy = sbError('ServiceBusy', true);
    expect(toPortError(busy, 'q')).toBe(busy);
  });
});

describe('Service Bus counts', () => {
  it('derives in-flight (locked) messages from the total, and the oldest age from a peek', () => {
    const runtime = {
      activeMessageCount: 7,
      deadLetterMessageCount: 2,
      scheduledMessageCount: 1,
      totalMessageCount: 14,
      transferMessageCount: 0,
      transferDeadLetterMessageCount: 0,
    };
    const now = Date.parse('2026-01-01T00:01:00.000Z');
    expect(countsFromRuntime(runtime, new Date('2026-01-01T00:00:00.000Z'), now)).toEqual({
      active: 7,
      locked: 4,
      scheduled: 1,
      deadLettered: 2,
      oldestActiveAgeMs: 60_000,
    });
    expect(countsFromRuntime({ ...runtime, activeMessageCount: 0, totalMessageCount: 3 }, undefined, now)).toMatchObject({
      active: 0,
      locked: 0,
      oldestActiveAgeMs: 0,
    });
  });
});
