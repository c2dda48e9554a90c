import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { refusedAddress, refusedUrl, type UrlPolicy } from './url-policy';

export interface SendResult {
  /** The receiver's HTTP status; absent when no answer came. */
  status?: number;
  /** Why no answer came (refused address, timeout, connection error). Never contains the body. */
  error?: string;
  durationMs: number;
}

export interface SendOptions {
  policy: UrlPolicy;
  timeoutMs: number;
}

class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
}

/**
 * DNS lookup that refuses private, link-local and metadata addresses, so a public name that resolves to an
 * internal address (or is rebound to one between checks) is refused at connection time.
 */
function guardedLookup(policy: UrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...(options as LookupOptions), all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => refusedAddress(a.address, policy)).find((why) => why !== undefined);
      if (refused || addresses.length === 0) {
        return callback(new RefusedAddressError(`${hostname} resolves to a refused address: ${refused ?? 'none'}`), '', 0);
      }
      if ((options as LookupOptions).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

/** POSTs one webhook body. No redirects are followed; the response body is read and dropped. */
export function postWebhook(url: string, body: string, headers: Record<string, string>, options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const why = refusedUrl(url, options.policy);
  if (why) return Promise.resolve({ error: `refused: ${why}`, durationMs: 0 });
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'gpu-jobs-webhooks/1',
        },
        lookup: guardedLookup(options.policy),
        timeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, durationMs: elapsed() }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, durationMs: elapsed() }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: Error & { code?: string }) => {
      const error =
        err instanceof RefusedAddressError
          ? `refused: ${err.message}`
          : err.name === 'AbortError' || err.message === 'timeout'
            ? `no answer within ${options.timeoutMs} ms`
            : `connection failed: ${err.code ?? err.name}`;
      resolve({ error, durationMs: elapsed() });
    });
    req.end(body);
  });
}
