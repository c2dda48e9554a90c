// The gateway built in-process (buildGateway) with embedded ports, exercised with inject().
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { readFileSync, writeFileSync } from 'node:fs';
import { TenantRegistry, type TenantLimits } from '@gpu-jobs/admission';
import { TokenVerifier, loadOrCreateLocalKeys, signLocalToken, type LocalKeys } from '@gpu-jobs/auth';
import { FairDispatcher, PlatformConfig, openPorts, parsePlatformEnv, type Ports } from '@gpu-jobs/platform';
import { deriveTenantSecret } from '@gpu-jobs/webhooks';
import { loadModelRegistry, type ModelIndex } from '@gpu-jobs/runners';
import { PlatformMetrics } from '@gpu-jobs/telemetry';
import { makeTempDir, workspaceRoot } from '@gpu-jobs/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type GatewayDeps } from './app';

const dir = makeTempDir('gateway-app-');
let app: FastifyInstance;
let ports: Ports;
let keys: LocalKeys;
let auth: string;
const health = { started: true, ready: true };
const opts = { issuer: 'iss', audience: 'aud', tenantClaim: 'tenant' };
const generous = { models: ['*'], maxInputBytes: 1 << 20, maxConcurrentJobs: 1000, requestsPerMinute: 100_000, dailyBudget: 1e6 };
const tenant = (id: string, limits: Partial<TenantLimits> = {}) => ({ id, weight: 1, limits: { ...generous, ...limits } });
const tenants = TenantRegistry.of([
  tenant('acme'),
  tenant('narrow', { models: ['text-detection-map'], maxInputBytes: 64 }),
  tenant('chatty', { requestsPerMinute: 60, burst: 3 }),
  tenant('busy', { maxConcurrentJobs: 2 }),
  tenant('thrifty', { dailyBudget: 10 }),
  tenant('flood'),
]);
const bearer = async (id: string) => `Bearer ${await signLocalToken(keys, { ...opts, tenant: id })}`;
// a PNG signature and then junk: accepted as a PNG at submit (only a worker decodes it)
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really a png')]).toString(
  'base64',
);

/** The gateway's dependencies on this test's ports, tenants and keys; `overrides` for one test's variant. */
function gatewayDeps(models: ModelIndex, overrides: Partial<GatewayDeps> = {}): GatewayDeps {
  return {
    ports,
    models,
    metrics: new PlatformMetrics('gateway-test'),
    verifier: new TokenVerifier({ ...opts, clockToleranceSeconds: 5, keys: { jwks: keys.jwks } }),
    health,
    tenants,
    dispatcher: new FairDispatcher(ports.store, ports.queue, { laneSettings: (l) => models.lane(l), weight: () => 1 }),
    webhookPolicy: { allowLoopback: false },
    webhookSecret: (t) => deriveTenantSecret('test-master-key', t),
    pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0, maxRssBytes: 0, retryAfterSeconds: 5 },
    bodyLimitBytes: 64 * 1024,
    longPollMaxSeconds: 2,
    idempotencyTtlMs: 60_000,
    logger: process.env['TEST_LOG'] === '1',
    ...overrides,
  };
}

beforeAll(async () => {
  // the repository's registry, with a small window and backlog cap for the lane
  const registry = JSON.parse(readFileSync(join(workspaceRoot(), 'config/models.json'), 'utf8')) as Record<string, unknown>;
  registry['lanes'] = { 'small-gpu': { dispatchWindow: 4, maxBacklog: 60 } };
  writeFileSync(join(dir.path, 'models.json'), JSON.stringify(registry));
  const models = loadModelRegistry(join(dir.path, 'models.json'), workspaceRoot());
  ports = await openPorts(
    parsePlatformEnv(PlatformConfig, { DATA_DIR: dir.path, QUEUE_LOCK_SECONDS: '30', QUEUE_MAX_DELIVERY_COUNT: '5' }),
    models.lanes(),
  );
  keys = await loadOrCreateLocalKeys(dir.path);
  auth = await bearer('acme');
  app = await buildGateway(gatewayDeps(models));
});
afterAll(async () => {
  await app.close();
  await ports.close();
  dir.remove();
});

describe('gateway (inject)', () => {
  it('accepts a job: 202, Location, stored input, queued message with references only', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: auth },
      payload: { model: 'ocr-en', input: { image: png }, metadata: { order: '7' } },
    });
    expect(res.statusCode).toBe(202);
    const job = res.json() as { id: string; status: string; metadata: unknown };
    expect(res.headers['location']).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ status: 'queued', metadata: { order: '7' } });
    expect(await ports.blobs.exists(`inputs/acme/${job.id}`)).toBe(true);
    const [message] = await ports.queue.peek('small-gpu', { maxMessages: 10 });
    expect(message?.body).toEqual({
      jobId: job.id,
      tenantId: 'acme',
      model: 'ocr-en',
      lane: 'small-gpu',
      inputRef: `inputs/acme/${job.id}`,
      priority: 'normal',
      attempt: 0,
    });
  });

  it('long-polls with ?wait and returns the state when the time is up', async () => {
    const created = (
      await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { authorization: auth },
        payload: { model: 'ocr-en', input: { image: png } },
      })
    ).json() as { id: string };
    const started = Date.now();
    const res = await app.inject({ method: 'GET', url: `/v1/jobs/${created.id}?wait=1`, headers: { authorization: auth } });
    expect(res.json()).toMatchObject({ id: created.id, status: 'queued' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers problems as application/problem+json with stable codes', async () => {
    const cases: [InjectOptions, number, string][] = [
      [{ method: 'GET', url: '/v1/models' }, 401, 'unauthorized'],
      [{ method: 'GET', url: '/v1/jobs/nope', headers: { authorization: auth } }, 404, 'job_not_found'],
      [{ method: 'GET', url: '/no/such/route' }, 404, 'not_found'],
      [{ method: 'POST', url: '/v1/jobs', headers: { authorization: auth }, payload: { model: 'x', input: {} } }, 422, 'model_unknown'],
      [
        { method: 'POST', url: '/v1/jobs', headers: { authorization: auth }, payload: { model: 'ocr-en', input: { image: '@@@@' } } },
        400,
        'validation_failed',
      ],
      [
        { method: 'POST', url: '/v1/jobs', headers: { authorization: auth, 'content-type': 'application/json' }, payload: '{"model":' },
        400,
        'validation_failed',
      ],
      [
        { method: 'POST', url: '/v1/jobs', headers: { authorization: auth, 'content-type': 'application/xml' }, payload: '<job/>' },
        415,
        'unsupported_media_type',
      ],
      [
        {
          method: 'POST',
          url: '/v1/jobs',
          headers: { authorization: auth },
          payload: { model: 'ocr-en', input: { image: 'A'.repeat(70 * 1024) } },
        },
        413,
        'payload_too_large',
      ],
      [{ method: 'GET', url: '/v1/jobs?cursor=garbage', headers: { authorization: auth } }, 400, 'validation_failed'],
      [
        {
          method: 'POST',
          url: '/v1/jobs',
          headers: { authorization: auth },
          payload: { model: 'text-detection-map', input: { inputs: [{ name: 'x', datatype: 'int64', shape: [1, 3, 32, 32], data: [] }] } },
        },
        422,
        'input_invalid',
      ],
      [{ method: 'GET', url: '/v1/jobs?limit=1000', headers: { authorization: auth } }, 400, 'validation_failed'],
    ];
    for (const [request, status, code] of cases) {
      const res = await app.inject(request);
      expect(res.statusCode, JSON.stringify(request.url)).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status, code, type: `urn:gpu-jobs:problem:${code}` });
      expect(res.body).not.toMatch(/at \w+ \(/); // no stack traces
    }
  });

  it('admission: each limit answers with its own code, status and retry hint', async () => {
    const submit = async (who: string, payload: object = { model: 'ocr-en', input: { image: png } }) =>
      app.inject({ method: 'POST', url: '/v1/jobs', headers: { authorization: await bearer(who) }, payload });
    const expectProblem = (res: Awaited<ReturnType<typeof submit>>, status: number, code: string, retryAfter?: string) => {
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json()).toMatchObject({ code });
      expect(res.headers['retry-after']).toBe(retryAfter);
    };
    expectProblem(await submit('stranger'), 403, 'tenant_unknown');
    expectProblem(await submit('narrow'), 403, 'model_not_allowed');
    const tensor = { inputs: [{ name: 'x', datatype: 'float32', shape: [1, 3, 32, 32], data: new Array(3 * 32 * 32).fill(0) }] };
    expectProblem(await submit('narrow', { model: 'text-detection-map', input: tensor }), 413, 'payload_too_large');
    const models = await app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: await bearer('narrow') } });
    expect(models.json<{ models: { id: string }[] }>().models.map((m) => m.id)).toEqual(['text-detection-map']);

    const chatty = await bearer('chatty');
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: chatty } }));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
    expectProblem(answers[3] as Awaited<ReturnType<typeof submit>>, 429, 'rate_limited', '1');

    expect((await submit('busy')).statusCode).toBe(202);
    expect((await submit('busy')).statusCode).toBe(202);
    expectProblem(await submit('busy'), 429, 'concurrency_limited', '5');

    expectProblem(
      await submit('acme', { model: 'ocr-en', input: { image: png }, webhook: { url: 'https://169.254.169.254/latest' } }),
      422,
      'webhook_url_refused',
    );
    expectProblem(
      await submit('acme', { model: 'ocr-en', input: { image: png }, webhook: { url: 'http://hooks.example.com/' } }),
      422,
      'webhook_url_refused',
    );
  });

  it('budget: concurrent submits never reserve more than the daily budget; a cancel refunds', async () => {
    const token = await bearer('thrifty');
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        app.inject({
          method: 'POST',
          url: '/v1/jobs',
          headers: { authorization: token },
          payload: { model: 'ocr-en', input: { image: png } },
        }),
      ),
    );
    const accepted = answers.filter((r) => r.statusCode === 202);
    expect(accepted).toHaveLength(10); // costUnits 1 each, budget 10
    const refused = answers.find((r) => r.statusCode === 402);
    expect(refused?.json()).toMatchObject({ code: 'budget_exceeded' });
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
    const view = (await app.inject({ method: 'GET', url: '/v1/tenant', headers: { authorization: token } })).json();
    expect(view).toMatchObject({ id: 'thrifty', usage: { budgetUsed: 10, activeJobs: 10 }, limits: { dailyBudget: 10 } });
    const first = accepted[0]?.json<{ id: string }>();
    const cancelled = await app.inject({ method: 'POST', url: `/v1/jobs/${first?.id}/cancel`, headers: { authorization: token } });
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', cost: { reserved: 1, charged: 0 } });
    const after = (await app.inject({ method: 'GET', url: '/v1/tenant', headers: { authorization: token } })).json();
    expect(after).toMatchObject({ usage: { budgetUsed: 9, activeJobs: 9 } });
  });

  it('Idempotency-Key: same body -> the same job with 200; another body -> 409', async () => {
    const post = (payload: object) =>
      app.inject({ method: 'POST', url: '/v1/jobs', headers: { authorization: auth, 'idempotency-key': 'order-42' }, payload });
    const first = await post({ model: 'ocr-en', input: { image: png }, metadata: { a: '1' } });
    expect(first.statusCode).toBe(202);
    const again = await post({ metadata: { a: '1' }, input: { image: png }, model: 'ocr-en' }); // key order does not matter
    expect(again.statusCode).toBe(200);
    expect(again.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
    expect(again.headers['location']).toBe(first.headers['location']);
    const other = await post({ model: 'ocr-en', input: { image: png }, metadata: { a: '2' } });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'idempotency_conflict' });
  });

  it('a webhook subscription is recorded with the job and its deliveries are listed', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: auth },
      payload: { model: 'ocr-en', input: { image: png }, webhook: { url: 'https://hooks.example.com/jobs', events: ['cancelled'] } },
    });
    const { id } = res.json<{ id: string }>();
    await app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: { authorization: auth } });
    const list = await app.inject({ method: 'GET', url: `/v1/jobs/${id}/webhook-deliveries`, headers: { authorization: auth } });
    expect(list.json()).toEqual({
      items: [expect.objectContaining({ id: `${id}.cancelled.0`, type: 'job.cancelled', state: 'pending', attempts: 0, history: [] })],
    });
    const secret = await app.inject({ method: 'GET', url: '/v1/tenant/webhook-secret', headers: { authorization: auth } });
    expect(secret.json()).toEqual({ secret: deriveTenantSecret('test-master-key', 'acme') });
    const other = await app.inject({
      method: 'GET',
      url: `/v1/jobs/${id}/webhook-deliveries`,
      headers: { authorization: await bearer('busy') },
    });
    expect(other.statusCode).toBe(404);
  });

  it('keeps a valid traceparent with the job (for its message, even when released later) and drops a malformed one', async () => {
    const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const submit = (traceparent: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { authorization: auth, traceparent },
        payload: { model: 'ocr-en', input: { image: png } },
      });
    const good = (await submit(trace)).json<{ id: string }>();
    const bad = (await submit('not-a-trace')).json<{ id: string }>();
    expect((await ports.store.get(good.id))?.traceparent).toBe(trace);
    expect((await ports.store.get(bad.id))?.traceparent).toBeUndefined();
  });

  it('holds jobs beyond the lane window and answers 503 queue_full at the backlog cap', async () => {
    const token = await bearer('flood');
    let status = 0;
    let sent = 0;
    while (sent < 100) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { authorization: token },
        payload: { model: 'ocr-en', input: { image: png } },
      });
      status = res.statusCode;
      if (status !== 202) {
        expect(res.json()).toMatchObject({ code: 'queue_full' });
        expect(res.headers['retry-after']).toBe('5');
        break;
      }
      sent += 1;
    }
    expect(status).toBe(503);
    const counts = await ports.queue.counts('small-gpu');
    expect(counts.active).toBeLessThanOrEqual(4); // the window: the rest wait in the task store
    const load = await ports.store.laneLoad('small-gpu');
    expect(load.held + load.dispatched).toBeGreaterThanOrEqual(60);
  });

  it('publishes every new field, header and error in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>();
    const submit = doc.paths['/v1/jobs']?.['post'] as { responses: Record<string, unknown>; parameters: { name: string }[] };
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['200', '202', '402', '403', '409', '413', '422', '429', '503']));
    expect(submit.parameters.map((p) => p.name)).toContain('idempotency-key');
    expect(JSON.stringify(submit)).toContain('deadlineSeconds');
    expect(JSON.stringify(submit)).toContain('webhook');
    expect(doc.paths['/v1/jobs/{id}/events']).toBeDefined();
    expect(doc.paths['/v1/jobs/{id}/webhook-deliveries']).toBeDefined();
    expect(doc.paths['/v1/tenant']).toBeDefined();
  });

  it('sheds load under pressure: 503 not_ready with Retry-After, from @fastify/under-pressure, and the route never runs', async () => {
    const models = loadModelRegistry(join(dir.path, 'models.json'), workspaceRoot());
    // the gateway's own log lines: a route that ran after the 503 would log "Reply was already sent"
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    // any heap is too much: every request is shed once the first sample is taken
    const strained = await buildGateway(
      gatewayDeps(models, {
        metrics: new PlatformMetrics('gateway-pressure-test'),
        pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 1, maxRssBytes: 0, retryAfterSeconds: 7, sampleIntervalMs: 10 },
        logger,
      }),
    );
    try {
      await strained.ready();
      // the first sample comes after sampleIntervalMs; on a busy machine later: wait for it, with a generous ceiling
      let res = await strained.inject({ method: 'GET', url: '/health/live' });
      for (const end = Date.now() + 30_000; res.statusCode !== 503 && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 20));
        res = await strained.inject({ method: 'GET', url: '/health/live' });
      }
      expect(res.statusCode).toBe(503);
      const models503 = await strained.inject({ method: 'GET', url: '/v1/models', headers: { authorization: auth } });
      for (const r of [res, models503]) {
        expect(r.statusCode).toBe(503);
        expect(r.headers['retry-after']).toBe('7');
        expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(r.json()).toMatchObject({ code: 'not_ready', retryAfterSeconds: 7 });
      }
      await new Promise((r) => setImmediate(r));
      expect(lines.filter((l) => /already sent|FST_ERR_REP_ALREADY_SENT/.test(l))).toEqual([]);
    } finally {
      await strained.close();
    }
  });

  it('probes follow the health state, without authentication', async () => {
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    health.ready = false;
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    health.ready = true;
  });
});
