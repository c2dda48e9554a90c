// The platform as a user runs it: the gateway and a worker in their own processes, on loopback.
import { PlatformProcess } from '@gpu-jobs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, image, makePlatformEnv, postOversize, slowInput, tokenFor, type JobView } from './harness';

describe('the platform on one machine', () => {
  const { dir, env } = makePlatformEnv();
  let gateway: PlatformProcess;
  let worker: PlatformProcess;
  let acme: Client;

  beforeAll(async () => {
    [gateway, worker] = await Promise.all([PlatformProcess.start('gateway', env), PlatformProcess.start('worker', env)]);
    await worker.waitFor('/health/ready', 200);
    acme = new Client(gateway, await tokenFor(dir.path, 'acme'));
  });
  afterAll(async () => {
    await Promise.all([gateway?.stop(), worker?.stop()]);
    dir.remove();
  });

  it('reads a scanned page: 202, then succeeded with its text', async () => {
    const res = await acme.request('POST', '/v1/jobs', { model: 'ocr-en', input: { image: image('page.png') } });
    expect(res.status).toBe(202);
    const submitted = (await res.json()) as JobView;
    expect(res.headers.get('location')).toBe(`/v1/jobs/${submitted.id}`);
    expect(submitted).toMatchObject({ status: 'queued', attempts: 0 });
    const done = await acme.finished(submitted.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(done.result?.text).toBe('Invoice 2048 paid in full\nGPU jobs run on warm workers');
    expect(done.progress).toMatchObject({ stage: 'recognition', done: 2, total: 2 });
  });

  it('a truncated JPEG fails at once with a code, is not retried, and the worker stays ready', async () => {
    const truncated = Buffer.from(image('page.jpg'), 'base64').subarray(0, 3000).toString('base64');
    const job = await acme.submit('ocr-en', { image: truncated });
    const done = await acme.finished(job.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'image_unreadable', retryable: false } });
    await worker.waitFor('/health/ready', 200, 5_000);
    const after = await acme.finished((await acme.submit('ocr-en', { image: image('page.jpg') })).id);
    expect(after.status).toBe('succeeded');
  });

  it('50 concurrent submits all succeed', async () => {
    const jobs = await Promise.all(Array.from({ length: 50 }, () => acme.submit('ocr-en', { image: image('page.jpg') })));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(50);
    const done = await Promise.all(jobs.map((j) => acme.finished(j.id, 120_000)));
    expect(done.map((j) => j.status)).toEqual(new Array(50).fill('succeeded'));
    expect(done.every((j) => j.result?.text?.startsWith('Queue depth is 42'))).toBe(true);
  }, 180_000);

  it("another tenant's job is a 404, and lists show only the caller's jobs", async () => {
    const job = await acme.submit('ocr-en', { image: image('page.png') });
    const globex = new Client(gateway, await tokenFor(dir.path, 'globex'));
    const res = await globex.request('GET', `/v1/jobs/${job.id}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'job_not_found' });
    expect((await globex.request('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(404);
    const list = (await (await globex.request('GET', '/v1/jobs')).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    const mine = (await (await acme.request('GET', '/v1/jobs?limit=2')).json()) as { items: JobView[]; nextCursor?: string };
    expect(mine.items).toHaveLength(2);
    expect(mine.items[0]?.id).toBe(job.id);
    expect(mine.nextCursor).toEqual(expect.any(String));
  });

  it('every bad token is a 401 with a code', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['missing', {}, 'unauthorized'],
      ['malformed', { authorization: 'Bearer not-a-jwt' }, 'unauthorized'],
      ['not bearer', { authorization: 'Basic YTpi' }, 'unauthorized'],
      ['expired', { authorization: `Bearer ${await tokenFor(dir.path, 'acme', { ttlSeconds: -120 })}` }, 'token_expired'],
      ['wrong issuer', { authorization: `Bearer ${await tokenFor(dir.path, 'acme', { issuer: 'someone-else' })}` }, 'unauthorized'],
      ['wrong audience', { authorization: `Bearer ${await tokenFor(dir.path, 'acme', { audience: 'another-api' })}` }, 'unauthorized'],
    ];
    for (const [name, headers, code] of cases) {
      const res = await fetch(`${gateway.url}/v1/models`, { headers });
      expect(res.status, name).toBe(401);
      expect(await res.json(), name).toMatchObject({ status: 401, code });
    }
  });

  it('bad requests: oversize body 413, unknown model 422, not JSON 400, schema mismatch 400 naming the field', async () => {
    const big = await postOversize(
      `${gateway.url}/v1/jobs`,
      { authorization: `Bearer ${acme.token}`, 'content-type': 'application/json' },
      5 * 1024 * 1024,
    );
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ code: 'payload_too_large' });
    const unknown = await acme.request('POST', '/v1/jobs', { model: 'no-such-model', input: {} });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ code: 'model_unknown' });
    const notJson = await acme.request('POST', '/v1/jobs', '{"model": ');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: 'validation_failed' });
    const badField = await acme.request('POST', '/v1/jobs', { model: 'ocr-en', input: { image: 'x' }, priority: 'urgent' });
    expect(badField.status).toBe(400);
    expect(((await badField.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('/priority');
    const badInput = await acme.request('POST', '/v1/jobs', { model: 'ocr-en', input: { text: 'hello' } });
    expect(badInput.status).toBe(400);
    expect(((await badInput.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('/input/image');
  });

  it('a tensor model: requests are checked against its declared inputs (422), a matching one runs', async () => {
    const wrong = await acme.request('POST', '/v1/jobs', {
      model: 'slow',
      input: { inputs: [{ name: 'x', datatype: 'float32', shape: [1, 3], data: [1, 2, 3] }] },
    });
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({ code: 'input_invalid', detail: expect.stringContaining('dimension 1 must be 1024') });
    const done = await acme.finished((await acme.submit('slow', slowInput(2))).id);
    expect(done).toMatchObject({ status: 'succeeded', result: { outputs: [{ name: 'y', datatype: 'float32', shape: [2, 1] }] } });
  });

  it('idempotent submission: same key and body -> the same job; same key, other body -> 409', async () => {
    const headers = { 'idempotency-key': 'order-7781' };
    const first = await acme.request('POST', '/v1/jobs', { model: 'ocr-en', input: { image: image('page.png') } }, headers);
    const again = await acme.request('POST', '/v1/jobs', { model: 'ocr-en', input: { image: image('page.png') } }, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(((await again.json()) as JobView).id).toBe(((await first.json()) as JobView).id);
    const other = await acme.request('POST', '/v1/jobs', { model: 'ocr-en', input: { image: image('page.jpg') } }, headers);
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ code: 'idempotency_conflict' });
  });

  it('cancel: a queued job is cancelled at once and never runs; a finished one is a 409', async () => {
    const blocker = await acme.submit('slow', slowInput(256)); // keeps the only worker busy
    const queued = await acme.submit('ocr-en', { image: image('page.png') });
    const cancel = await acme.request('POST', `/v1/jobs/${queued.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ status: 'cancelled' });
    expect((await acme.finished(blocker.id)).status).toBe('succeeded');
    expect(await acme.job(queued.id)).toMatchObject({ status: 'cancelled', attempts: 0 });
    const again = await acme.request('POST', `/v1/jobs/${queued.id}/cancel`);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'job_already_finished' });
  });

  it('serves models, docs, the OpenAPI document, probes and metrics', async () => {
    const models = (await (await acme.request('GET', '/v1/models')).json()) as { models: { id: string; lane: string }[] };
    expect(models.models.map((m) => m.id)).toContain('ocr-en');
    const openapi = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/cancel', '/v1/models']));
    expect((await fetch(`${gateway.url}/docs`)).status).toBe(200);
    for (const probe of ['/health/live', '/health/ready', '/health/startup']) expect((await fetch(gateway.url + probe)).status).toBe(200);
    const gatewayMetrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(gatewayMetrics).toContain('http_request_duration_seconds_bucket');
    const workerMetrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(workerMetrics).toMatch(/inference_duration_seconds_count\{[^}]*model="ocr-en"[^}]*\} [1-9]/);
    expect(workerMetrics).toMatch(/model_load_seconds\{[^}]*model="ocr-en"/);
  });
});
