// Hostile input: whatever a client sends, the gateway answers with a 4xx problem+json (never a 5xx, a hang or a
// crash) and stays healthy. Specific cases found by an adversarial run, then a property-based fuzz over every route.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import type { FastifyInstance, InjectOptions } from 'fastify';
import fc from 'fast-check';
import { TenantRegistry } from '@gpu-jobs/admission';
import { TokenVerifier, loadOrCreateLocalKeys, signLocalToken } from '@gpu-jobs/auth';
import { FairDispatcher, PlatformConfig, openPorts, parsePlatformEnv, type Ports } from '@gpu-jobs/platform';
import { loadModelRegistry } from '@gpu-jobs/runners';
import { PlatformMetrics } from '@gpu-jobs/telemetry';
import { makeTempDir, workspaceRoot } from '@gpu-jobs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type GatewayDeps } from './app';

const dir = makeTempDir('gateway-hostile-');
let app: FastifyInstance;
let deps: GatewayDeps;
let ports: Ports;
let auth: string;
const opts = { issuer: 'iss', audience: 'aud', tenantClaim: 'tenant' };
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('junk')]).toString('base64');

beforeAll(async () => {
  const registry = JSON.parse(readFileSync(join(workspaceRoot(), 'config/models.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir.path, 'models.json'), JSON.stringify(registry));
  const models = loadModelRegistry(join(dir.path, 'models.json'), workspaceRoot());
  ports = await openPorts(parsePlatformEnv(PlatformConfig, { DATA_DIR: dir.path }), models.lanes());
  const keys = await loadOrCreateLocalKeys(dir.path);
  auth = `Bearer ${await signLocalToken(keys, { ...opts, tenant: 'acme' })}`;
  const limits = {
    models: ['*'],
    maxInputBytes: 1 << 20,
    maxConcurrentJobs: 100_000,
    requestsPerMinute: 1_000_000,
    burst: 100_000,
    dailyBudget: 1e9,
  };
  deps = {
    ports,
    models,
    metrics: new PlatformMetrics('gateway-hostile'),
    verifier: new TokenVerifier({ ...opts, clockToleranceSeconds: 5, keys: { jwks: keys.jwks } }),
    health: { started: true, ready: true },
    tenants: TenantRegistry.of([{ id: 'acme', weight: 1, limits }]),
    dispatcher: new FairDispatcher(ports.store, ports.queue, { laneSettings: (l) => models.lane(l), weight: () => 1 }),
    webhookPolicy: { allowLoopback: false },
    webhookSecret: () => 'k'.repeat(32),
    pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0, maxRssBytes: 0, retryAfterSeconds: 5 },
    bodyLimitBytes: 256 * 1024,
    longPollMaxSeconds: 5,
    idempotencyTtlMs: 60_000,
    logger: false,
  };
  app = await buildGateway(deps);
});
afterAll(async () => {
  await app.close();
  await ports.close();
  dir.remove();
});

/** A 4xx with a problem+json body carrying a code; the gateway still answers its liveness probe. */
async function expectProblem(req: InjectOptions, status?: number): Promise<Record<string, unknown>> {
  const res = await app.inject(req);
  expect(res.statusCode, `${req.method} ${req.url}: ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, `${req.method} ${req.url}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (status) expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(typeof body['code']).toBe('string');
  return body;
}

/** JSON text nested `depth` objects deep (built as text: serialising such a value would overflow the stack). */
const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const post = (body: string, headers: Record<string, string> = {}): InjectOptions => ({
  method: 'POST',
  url: '/v1/jobs',
  headers: { authorization: auth, 'content-type': 'application/json', ...headers },
  payload: body,
});

/** A valid OCR job (a PNG signature and junk: accepted at submit), on the given gateway. */
async function submitPage(gateway: FastifyInstance): Promise<{ id: string }> {
  const res = await gateway.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { authorization: auth },
    payload: { model: 'ocr-en', input: { image: png } },
  });
  expect(res.statusCode).toBe(202);
  return res.json() as { id: string };
}

describe('hostile input', () => {
  it('GET /v1/jobs/{id}/events without Accept: text/event-stream is a 406 problem, not a 500', async () => {
    const created = await submitPage(app);
    const body = await expectProblem(
      { method: 'GET', url: `/v1/jobs/${created.id}/events`, headers: { authorization: auth, accept: 'application/json' } },
      406,
    );
    expect(body['code']).toBe('not_acceptable');
  });

  it('the webhook object is closed: extra properties, deep nesting and junk are refused with 400', async () => {
    const image = `"input":{"image":"${png}"}`;
    await expectProblem(post(`{"model":"ocr-en",${image},"webhook":{"url":"https://example.com/h","extra":1}}`), 400);
    await expectProblem(post(`{"model":"ocr-en",${image},"webhook":{"url":"https://example.com/h","x":${deep(5_000)}}}`), 400);
    await expectProblem(post(`{"model":"ocr-en",${image},"webhook":{"url":"https://example.com/h","junk":"${'x'.repeat(100_000)}"}}`), 400);
    // the same depth anywhere else in the body: the input and the metadata are closed too (the idempotency hash never sees it)
    await expectProblem(post(`{"model":"ocr-en","input":{"image":"${png}","x":${deep(5_000)}}}`, { 'idempotency-key': 'k1' }), 400);
    await expectProblem(post(`{"model":"ocr-en",${image},"metadata":${deep(5_000)}}`, { 'idempotency-key': 'k2' }), 400);
    await expectProblem(post(`{"model":"ocr-en",${image},"priority":${deep(5_000)}}`), 400);
  });

  it('a tensor shape with a dimension that is not a safe integer is refused at submit', async () => {
    const tensor = (shape: number[]) => ({
      model: 'text-detection-map',
      input: { inputs: [{ name: 'x', datatype: 'float32', shape, data: [0] }] },
    });
    await expectProblem({ method: 'POST', url: '/v1/jobs', headers: { authorization: auth }, payload: tensor([1, 3, 1e20, 32]) });
    await expectProblem(
      { method: 'POST', url: '/v1/jobs', headers: { authorization: auth }, payload: tensor([1, 3, 2_000_000_000, 2_000_000_000]) },
      422,
    );
  });

  it('images are accepted by their bytes: JPEG and PNG only (an SVG or a PDF is refused at submit)', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>').toString('base64');
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\n').toString('base64');
    for (const image of [svg, pdf]) {
      const body = await expectProblem(
        { method: 'POST', url: '/v1/jobs', headers: { authorization: auth }, payload: { model: 'ocr-en', input: { image } } },
        415,
      );
      expect(body['code']).toBe('unsupported_media_type');
    }
  });

  it('malformed requests at the framework and parser level answer problem+json', async () => {
    await expectProblem({ method: 'GET', url: '/v1/jobs/%E0%A4%A', headers: { authorization: auth } });
    await expectProblem({ method: 'GET', url: `/v1/jobs/${'x'.repeat(5_000)}`, headers: { authorization: auth } });
    await expectProblem({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: '{"model": "ocr-en", "input": ',
    });
    await expectProblem({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
    });
    await expectProblem({ method: 'GET', url: '/v1/jobs?limit=abc', headers: { authorization: auth } });
  });

  it('open waits beyond the tenant cap answer 429 too_many_waits with Retry-After; a finished one frees its place', async () => {
    const capped = await buildGateway({ ...deps, waits: { perTenant: 2, total: 100 } });
    try {
      const [a, b, c] = [await submitPage(capped), await submitPage(capped), await submitPage(capped)];
      const wait = (id: string, seconds: number) =>
        capped.inject({ method: 'GET', url: `/v1/jobs/${id}?wait=${seconds}`, headers: { authorization: auth } });
      const open = [wait(a.id, 5), wait(b.id, 5)];
      // the barrier: both waits hold their places (the gateway's own count), then a third is refused
      const openWaits = (capped as unknown as { openWaits: () => number }).openWaits;
      for (const end = Date.now() + 30_000; openWaits() < 2 && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
      expect(openWaits()).toBe(2);
      const third = await wait(c.id, 1);
      expect(third.statusCode).toBe(429);
      expect(third.headers['retry-after']).toBe('5');
      expect(third.json()).toMatchObject({ code: 'too_many_waits' });
      await Promise.all(open);
      expect(openWaits()).toBe(0);
      expect((await wait(c.id, 1)).statusCode).toBe(200);
    } finally {
      await capped.close();
    }
  }, 60_000);

  it("Node's own HTTP errors (a bad request line, huge headers, no Host) answer problem+json on the socket", async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(request));
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (d: string) => (text += d));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.setTimeout(30_000, () => socket.destroy(new Error('no answer')));
      });
    const cases: [string, number][] = [
      ['NOT-HTTP\r\n\r\n', 400],
      [`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`, 431],
      ['GET /health/live HTTP/1.1\r\n\r\n', 400],
    ];
    for (const [request, status] of cases) {
      const answer = await raw(request);
      expect(answer.split('\r\n')[0], JSON.stringify(request.slice(0, 40))).toBe(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`,
      );
      expect(answer).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status, code: 'validation_failed' });
    }
  });

  it('fuzz: no route answers 5xx or anything but problem+json for an error, and the gateway stays live', async () => {
    const routes = [
      '/v1/jobs',
      '/v1/jobs/x',
      '/v1/jobs/x/cancel',
      '/v1/jobs/x/events',
      '/v1/jobs/x/result',
      '/v1/jobs/x/webhook-deliveries',
      '/v1/models',
      '/v1/tenant',
      '/v1/tenant/webhook-secret',
      '/health/live',
      '/nope',
    ];
    const json = fc.jsonValue({ maxDepth: 4 });
    const body = fc.oneof(
      json,
      fc.record({
        model: fc.oneof(fc.constant('ocr-en'), fc.constant('text-detection-map'), fc.string()),
        input: json,
        webhook: fc.option(json, { nil: undefined }),
        metadata: fc.option(json, { nil: undefined }),
        priority: fc.option(json, { nil: undefined }),
        deadlineSeconds: fc.option(json, { nil: undefined }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        fc.constantFrom(...routes),
        fc.string({ maxLength: 20 }),
        body,
        fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html'),
        async (method, route, query, payload, accept) => {
          const res = await app.inject({
            method: method as 'GET',
            url: `${route}?${encodeURIComponent(query)}=${encodeURIComponent(query)}`,
            headers: {
              authorization: auth,
              accept,
              ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
            },
            ...(method === 'GET' || method === 'DELETE' ? {} : { payload: JSON.stringify(payload ?? null) }),
          });
          expect(res.statusCode, `${method} ${route}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
          if (res.statusCode >= 400) expect(res.headers['content-type'], `${method} ${route}`).toMatch(/^application\/problem\+json/);
        },
      ),
      { numRuns: 300 },
    );
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
  }, 120_000);
});
