import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import type { LockedMessage, OutgoingMessage, PeekedMessage, PropertyValue, SubQueue } from '@gpu-jobs/queue';

/**
 * A port message as a Service Bus message: the id drives duplicate detection, the body is JSON, application
 * properties carry the routing facts and the W3C trace context (`traceparent`, as Azure SDK tracing expects
 * it in `Diagnostic-Id` too), a scheduled time becomes `scheduledEnqueueTimeUtc`.
 */
export function toServiceBusMessage(m: OutgoingMessage): ServiceBusMessage {
  const properties: Record<string, PropertyValue> = { ...m.applicationProperties };
  const traceparent = (m.body as { traceparent?: unknown } | null)?.traceparent;
  if (typeof traceparent === 'string') {
    properties['traceparent'] = traceparent;
    properties['Diagnostic-Id'] = traceparent;
  }
  const message: ServiceBusMessage = {
    messageId: m.messageId,
    body: m.body,
    contentType: 'application/json',
    applicationProperties: properties,
  };
  if (m.scheduledEnqueueTime) message.scheduledEnqueueTimeUtc = m.scheduledEnqueueTime;
  return message;
}

function properties(sb: ServiceBusReceivedMessage): Record<string, PropertyValue> {
  const out: Record<string, PropertyValue> = {};
  for (const [k, v] of Object.entries(sb.applicationProperties ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

export function toPeeked(sb: ServiceBusReceivedMessage): PeekedMessage {
  const peeked: PeekedMessage = {
    messageId: String(sb.messageId ?? ''),
    body: sb.body as unknown,
    applicationProperties: properties(sb),
    sequenceNumber: sb.sequenceNumber ? sb.sequenceNumber.toNumber() : 0,
    enqueuedTime: sb.enqueuedTimeUtc ?? new Date(0),
    deliveryCount: sb.deliveryCount ?? 0,
  };
  if (sb.deadLetterReason) peeked.deadLetterReason = sb.deadLetterReason;
  if (sb.deadLetterErrorDescription) peeked.deadLetterErrorDescription = sb.deadLetterErrorDescription;
  return peeked;
}

export function toLocked(sb: ServiceBusReceivedMessage, queueName: string, subQueue: SubQueue): LockedMessage {
  if (!sb.lockToken) throw new TypeError('a peek-lock message has a lock token');
  return {
    ...toPeeked(sb),
    queueName,
    subQueue,
    lockToken: sb.lockToken,
    lockedUntil: sb.lockedUntilUtc ?? new Date(),
  };
}

/** ISO 8601 durations, as the administration API takes them (`PT1M`, `PT10M30S`). */
export function isoDuration(ms: number): string {
  const total = Math.max(1, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

export function parseIsoDuration(text: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m) throw new RangeError(`not an ISO 8601 duration: ${text}`);
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return ((Number(d) * 24 + Number(h)) * 3600 + Number(min) * 60 + Number(s)) * 1000;
}
