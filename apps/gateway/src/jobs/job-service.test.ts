import { describe, expect, it } from 'vitest';
import { decodeBase64, requestHash } from './job-service';

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
