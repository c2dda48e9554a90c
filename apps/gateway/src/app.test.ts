// The gateway built in-process (buildGateway) with embedded ports, exercised with inject().
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { TokenVerifier, loadOrCreateLocalKeys, signLocalToken } from '@gpu-jobs/auth';
import { openPorts, type Ports } from '@gpu-jobs/platform';
import { loadModelRegistry } from '@gpu-jobs/runners';
import { PlatformMetrics } from '@gpu-jobs/telemetry';
import { makeTempDir, workspaceRoot } from '@gpu-jobs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from './app';

const dir = makeTempDir('gateway-app-');
let app: FastifyInstance;
let ports: Ports;
let auth: string;
const health = { started: true, ready: true };

beforeAll(async () => {
  const models = loadModelRegistry(join(workspaceRoot(), 'config/models.json'), workspaceRoot());
  ports = await openPorts(
    {
      DATA_DIR: dir.path,
      QUEUE_ADAPTER: 'embedded',
      TASK_STORE_ADAPTER: 'embedded',
      BLOB_STORE_ADAPTER: 'local',
      MODEL_REGISTRY: '',
      QUEUE_LOCK_SECONDS: 30,
      QUEUE_MAX_DELIVERY_COUNT: 5,
      EMBEDDED_SYNCHRONOUS: 'NORMAL',
    },
    models.lanes(),
  );
  const keys = await loadOrCreateLocalKeys(dir.path);
  const opts = { issuer: 'iss', audience: 'aud', tenantClaim: 'tenant' };
  auth = `Bearer ${await signLocalToken(keys, { ...opts, tenant: 'acme' })}`;
  app = await buildGateway({
    ports,
    models,
    metrics: new PlatformMetrics('gateway-test'),
    verifier: new TokenVerifier({ ...opts, clockToleranceSeconds: 5, keys: { jwks: keys.jwks } }),
    health,
    bodyLimitBytes: 64 * 1024,
    longPollMaxSeconds: 2,
    idempotencyTtlMs: 60_000,
    logger: process.env['TEST_LOG'] === '1',
  });
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
      payload: { model: 'ocr-en', input: { image: Buffer.from('not really a png').toString('base64') }, metadata: { order: '7' } },
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
        payload: { model: 'ocr-en', input: { image: 'AAAA' } },
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

  it('probes follow the health state, without authentication', async () => {
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    health.ready = false;
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    health.ready = true;
  });
});
