import { describe, expect, it } from 'vitest';
import { WaitCaps, decodeBase64, requestHash } from './job-service';

describe('decodeBase64', () => {
  it.each(['', 'QQ==', 'QQ', 'QUI=', 'QUJD', Buffer.from('any bytes \u0000\u00ff').toString('base64'), 'QUJD'.repeat(1000)])(
    'decodes %j',
    (text) => {
      expect(decodeBase64(text)?.toString('base64').replace(/=+$/, '')).toBe(text.replace(/=+$/, ''));
    },
  );

  it.each(['Q', 'QU!D', 'QU JD', 'data:,abc', 'QUJD====', '****'])('refuses %j', (text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });
});

describe('requestHash', () => {
  it('ignores key order, not values', () => {
    const a = requestHash({ model: 'm', input: { image: 'x', b: 1 }, priority: 'high' } as never);
    const b = requestHash({ priority: 'high', input: { b: 1, image: 'x' }, model: 'm' } as never);
    const c = requestHash({ model: 'm', input: { image: 'y', b: 1 }, priority: 'high' } as never);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe('open waits', () => {
  it('are capped per tenant (429 too_many_waits) and per process (503), with Retry-After, and released once', () => {
    const caps = new WaitCaps({ perTenant: 2, total: 3 });
    const a1 = caps.acquire('a');
    caps.acquire('a');
    expect(() => caps.acquire('a')).toThrow(expect.objectContaining({ code: 'too_many_waits', extra: { retryAfterSeconds: 5 } }));
    caps.acquire('b');
    expect(() => caps.acquire('c')).toThrow(expect.objectContaining({ code: 'not_ready' }));
    a1();
    a1(); // a second release is a no-op
    expect(caps.open).toBe(2);
    expect(() => caps.acquire('c')).not.toThrow();
  });
});
