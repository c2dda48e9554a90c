import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from './sender';
import { deriveTenantSecret, signedHeaders } from './signing';

let server: Server;
let base: string;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];
let answer = 204;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      if (req.url === '/slow') return setTimeout(() => res.end(), 2_000);
      res.statusCode = answer;
      res.end('ignored');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('postWebhook', () => {
  const secret = deriveTenantSecret('master-key', 'acme');

  it('sends a body a Standard Webhooks receiver verifies', async () => {
    const body = JSON.stringify({ type: 'job.succeeded', data: { id: 'j1' } });
    const r = await postWebhook(`${base}/hook`, body, signedHeaders(secret, 'j1.succeeded.1', new Date(), body), {
      policy: { allowLoopback: true },
      timeoutMs: 2_000,
    });
    expect(r.status).toBe(204);
    const got = received.at(-1)!;
    expect(got.body).toBe(body);
    const headers = Object.fromEntries(Object.entries(got.headers).map(([k, v]) => [k, String(v)]));
    expect(new Webhook(secret).verify(got.body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(deriveTenantSecret('master-key', 'other')).verify(got.body, headers)).toThrow();
  });

  it('reports the status, a timeout, a refused address and a dead port without throwing', async () => {
    answer = 503;
    expect((await postWebhook(`${base}/x`, '{}', {}, { policy: { allowLoopback: true }, timeoutMs: 2_000 })).status).toBe(503);
    const slow = await postWebhook(`${base}/slow`, '{}', {}, { policy: { allowLoopback: true }, timeoutMs: 200 });
    expect(slow.error).toMatch(/no answer within 200 ms/);
    const refused = await postWebhook(`${base}/x`, '{}', {}, { policy: { allowLoopback: false }, timeoutMs: 2_000 });
    expect(refused.error).toMatch(/^refused/);
    const named = await postWebhook(
      `http://localhost:${new URL(base).port}/x`,
      '{}',
      {},
      { policy: { allowLoopback: true }, timeoutMs: 2_000 },
    );
    expect(named.status).toBe(503);
    const dead = await postWebhook('http://127.0.0.1:1/x', '{}', {}, { policy: { allowLoopback: true }, timeoutMs: 2_000 });
    expect(dead.error).toMatch(/connection failed/);
  });

  it('derives a different secret per tenant, in the whsec_ format', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(deriveTenantSecret('master-key', 'acme')).toBe(secret);
    expect(deriveTenantSecret('master-key', 'beta')).not.toBe(secret);
    expect(deriveTenantSecret('other-key', 'acme')).not.toBe(secret);
  });
});
