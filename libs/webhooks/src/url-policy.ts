import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface UrlPolicy {
  /** Allow http:// to loopback addresses (local development and tests only). */
  allowLoopback: boolean;
}

/** Addresses that are public unicast by range but belong to the cloud platform itself. */
const PLATFORM_ADDRESSES = new Set(['168.63.129.16']); // Azure's host endpoint (DNS, health, metadata relay)
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.azure.internal', 'instance-data']);

/**
 * Why an address may not receive webhooks, or undefined when it may: only public unicast addresses (and
 * loopback when allowed). Private, link-local (169.254.169.254, the instance metadata service), unique-local,
 * carrier-grade NAT, multicast, reserved and unspecified addresses are refused, in IPv4, IPv6 and IPv4-mapped form.
 */
export function refusedAddress(address: string, policy: UrlPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const ip = embeddedIPv4(ipaddr.process(address)); // ::ffff:10.0.0.1 and ::10.0.0.1 -> 10.0.0.1
  const range = ip.range();
  if (range === 'loopback') return policy.allowLoopback ? undefined : 'loopback addresses are not allowed';
  if (range !== 'unicast') return `${range} addresses are not allowed`;
  if (PLATFORM_ADDRESSES.has(ip.toString())) return 'platform addresses are not allowed';
  return undefined;
}

/**
 * The IPv4 address inside an IPv4-compatible IPv6 address (::a.b.c.d, deprecated but still routed to a.b.c.d by
 * some stacks), so it is judged like its IPv4 form; other addresses unchanged. (`ipaddr.process` already unwraps
 * the IPv4-mapped ::ffff:a.b.c.d form.)
 */
function embeddedIPv4(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (ip.kind() !== 'ipv6') return ip;
  const parts = (ip as ipaddr.IPv6).parts;
  // ::/96 with something in the last 32 bits; :: itself and ::1 keep their own ranges (unspecified, loopback)
  if (parts.slice(0, 6).some((p) => p !== 0) || (parts[6] === 0 && (parts[7] ?? 0) <= 1)) return ip;
  const [hi = 0, lo = 0] = parts.slice(6);
  return ipaddr.IPv4.parse(`${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`);
}

/**
 * Checks a webhook URL when the job is submitted: https only (http to loopback when allowed), no credentials,
 * no literal private address, no metadata host name. Names are checked again after DNS resolution at every
 * delivery (see sender.ts), so a name that resolves to a private address is refused then.
 */
export function refusedUrl(text: string, policy: UrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not a URL';
  }
  if (url.username || url.password) return 'credentials in the URL are not allowed';
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const literal = isIP(host) !== 0;
  const loopbackName = host === 'localhost' || host.endsWith('.localhost');
  const isLoopback = loopbackName || (literal && embeddedIPv4(ipaddr.process(host)).range() === 'loopback');
  if (url.protocol === 'http:') {
    if (!(policy.allowLoopback && isLoopback)) return 'webhook URLs must use https';
  } else if (url.protocol !== 'https:') {
    return 'webhook URLs must use https';
  }
  if (loopbackName) return policy.allowLoopback ? undefined : 'loopback addresses are not allowed';
  if (METADATA_HOSTS.has(host) || host.endsWith('.internal')) return 'metadata and internal host names are not allowed';
  if (literal) return refusedAddress(host, policy);
  return undefined;
}
