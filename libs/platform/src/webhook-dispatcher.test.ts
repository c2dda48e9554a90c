import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { applyEvent } from '@gpu-jobs/task-store';
import { sampleJob } from '@gpu-jobs/task-store/testing';
import { EmbeddedTaskStore } from '@gpu-jobs/task-store-embedded';
import { makeTempDir } from '@gpu-jobs/testing';
import { deriveTenantSecret } from '@gpu-jobs/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookDispatcher } from './webhook-dispatcher';

const dir = makeTempDir('webhooks-');
let server: Server;
let base: string;
/** What the receiver answers per path, in turn; then 204. */
const script: Record<string, number[]> = {};
const received: { path: string; verified: unknown }[] = [];
const secret = deriveTenantSecret('master', 't');

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let verified: unknown;
      try {
        verified = new Webhook(secret).verify(body, headers);
      } catch (err) {
        verified = `bad signature: ${(err as Error).message}`;
      }
      const path = req.url ?? '/';
      received.push({ path, verified });
      res.statusCode = script[path]?.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  dir.remove();
});

describe('WebhookDispatcher', () => {
  it('signs, retries with backoff until delivered, records every attempt; a 4xx is final; the budget of attempts is kept', async () => {
    const store = EmbeddedTaskStore.open({ dataDir: dir.path });
    const dispatcher = new WebhookDispatcher(store, {
      secretFor: (t) => (t === 't' ? secret : undefined),
      policy: { allowLoopback: true },
      retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      timeoutMs: 2_000,
      batch: 10,
    });
    script['/flaky'] = [500, 503];
    script['/gone'] = [410];
    script['/down'] = [500, 500, 500, 500];
    const jobs = ['/flaky', '/gone', '/down'].map((path) => sampleJob({ tenantId: 't', webhook: { url: `${base}${path}` } }));
    const stranger = sampleJob({ tenantId: 'unknown', webhook: { url: `${base}/x` } });
    for (const j of [...jobs, stranger]) {
      await store.create(j);
      await applyEvent(store, j.id, { type: 'cancel', at: new Date() });
    }
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      await dispatcher.runOnce();
      const states = await Promise.all([...jobs, stranger].map(async (j) => (await store.listWebhookDeliveries(j.id))[0]?.state));
      if (states.every((s) => s !== 'pending')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [flaky, gone, down] = await Promise.all(jobs.map(async (j) => (await store.listWebhookDeliveries(j.id))[0]));
    expect(flaky).toMatchObject({ state: 'delivered', attempts: 3 });
    expect(flaky?.history.map((h) => h.status)).toEqual([500, 503, 204]);
    expect(gone).toMatchObject({ state: 'failed', attempts: 1 });
    expect(down).toMatchObject({ state: 'failed', attempts: 3 });
    const gaps = flaky!.history.slice(1).map((h, i) => Date.parse(h.at) - Date.parse(flaky!.history[i]!.at));
    expect(gaps[0]).toBeGreaterThanOrEqual(10); // backoff, not a tight loop
    expect((await store.listWebhookDeliveries(stranger.id))[0]).toMatchObject({
      state: 'failed',
      history: [expect.objectContaining({ error: 'the tenant has no signing secret' })],
    });
    const flakyBodies = received.filter((r) => r.path === '/flaky');
    expect(flakyBodies).toHaveLength(3);
    for (const r of flakyBodies)
      expect(r.verified).toMatchObject({ type: 'job.cancelled', data: { id: jobs[0]!.id, status: 'cancelled' } });
    await store.close();
  });
});
