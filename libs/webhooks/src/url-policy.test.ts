import { describe, expect, it } from 'vitest';
import { refusedAddress, refusedUrl } from './url-policy';

const strict = { allowLoopback: false };
const dev = { allowLoopback: true };

describe('refusedUrl', () => {
  it('accepts public https URLs', () => {
    expect(refusedUrl('https://hooks.example.com/jobs?x=1', strict)).toBeUndefined();
    expect(refusedUrl('https://93.184.216.34:8443/h', strict)).toBeUndefined();
    expect(refusedUrl('https://[2606:4700::1111]/h', strict)).toBeUndefined();
  });

  it.each([
    ['http://hooks.example.com/', 'https'],
    ['ftp://hooks.example.com/', 'https'],
    ['not a url', 'not a URL'],
    ['https://user:pw@hooks.example.com/', 'credentials'],
    ['https://10.1.2.3/', 'private'],
    ['https://192.168.0.10/', 'private'],
    ['https://172.16.5.5/', 'private'],
    ['https://169.254.169.254/latest/meta-data', 'linkLocal'],
    ['https://[fd00:ec2::254]/', 'uniqueLocal'],
    ['https://[fe80::1]/', 'linkLocal'],
    ['https://[::ffff:10.0.0.1]/', 'private'],
    // IPv4-compatible IPv6 (::a.b.c.d) is judged like a.b.c.d
    ['https://[::10.0.0.1]/', 'private'],
    ['https://[::169.254.169.254]/', 'linkLocal'],
    ['https://[::127.0.0.1]/', 'loopback'],
    ['https://[::a9fe:a9fe]/', 'linkLocal'],
    ['https://100.64.0.1/', 'carrierGradeNat'],
    ['https://0.0.0.0/', 'unspecified'],
    ['https://168.63.129.16/', 'platform'],
    ['https://metadata.google.internal/', 'metadata'],
    ['https://127.0.0.1/', 'loopback'],
    ['https://localhost/', 'loopback'],
    ['http://127.0.0.1:9000/', 'https'],
  ])('refuses %s (%s)', (url, reason) => {
    expect(refusedUrl(url, strict)).toContain(reason);
  });

  it('allows http to loopback only when configured', () => {
    expect(refusedUrl('http://127.0.0.1:9000/hook', dev)).toBeUndefined();
    expect(refusedUrl('http://localhost:9000/hook', dev)).toBeUndefined();
    expect(refusedUrl('http://[::1]:9000/hook', dev)).toBeUndefined();
    expect(refusedUrl('http://10.0.0.1/hook', dev)).toContain('https');
    expect(refusedUrl('https://10.0.0.1/hook', dev)).toContain('private');
  });
});

describe('refusedAddress', () => {
  it('classifies resolved addresses', () => {
    expect(refusedAddress('8.8.8.8', strict)).toBeUndefined();
    expect(refusedAddress('127.0.0.1', strict)).toContain('loopback');
    expect(refusedAddress('127.0.0.1', dev)).toBeUndefined();
    expect(refusedAddress('::ffff:169.254.169.254', dev)).toContain('linkLocal');
    expect(refusedAddress('::169.254.169.254', dev)).toContain('linkLocal');
    expect(refusedAddress('::8.8.8.8', strict)).toBeUndefined();
    expect(refusedAddress('::', strict)).toContain('unspecified');
    expect(refusedAddress('::1', strict)).toContain('loopback');
    expect(refusedAddress('224.0.0.1', dev)).toContain('multicast');
    expect(refusedAddress('nonsense', dev)).toContain('not an IP');
  });
});
