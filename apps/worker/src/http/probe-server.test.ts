import { PlatformMetrics } from '@gpu-jobs/telemetry';
import { describe, expect, it } from 'vitest';
import type { GpuWorker, WorkerState } from '../worker';
import { buildProbeServer } from './probe-server';

describe('worker probe server', () => {
  it('startup, readiness and liveness follow the worker state; drain answers 202 and is handed on', async () => {
    const worker = { state: 'starting' as WorkerState, loadSeconds: {} as Record<string, number>, inFlight: 0 };
    let drains = 0;
    const app = buildProbeServer(worker as unknown as GpuWorker, new PlatformMetrics('worker-test'), () => (drains += 1));
    const status = async (url: string) => (await app.inject({ method: 'GET', url })).statusCode;

    expect([await status('/health/startup'), await status('/health/ready'), await status('/health/live')]).toEqual([503, 503, 200]);
    worker.state = 'ready';
    worker.loadSeconds = { 'ocr-en': 0.4 };
    expect([await status('/health/startup'), await status('/health/ready'), await status('/health/live')]).toEqual([200, 200, 200]);
    expect((await app.inject({ method: 'GET', url: '/health/startup' })).json()).toMatchObject({ loadSeconds: { 'ocr-en': 0.4 } });
    worker.inFlight = 1;
    expect((await app.inject({ method: 'GET', url: '/admin/status' })).json()).toEqual({ state: 'ready', inFlight: 1 });
    // from another pod: refused, whatever the worker's state (only the pod's preStop and the local pool, on loopback)
    const remote = await app.inject({ method: 'POST', url: '/admin/drain', remoteAddress: '10.244.1.7' });
    expect(remote.statusCode).toBe(403);
    expect(drains).toBe(0);
    const refused = await app.inject({ method: 'POST', url: '/admin/drain?ifIdle=true' });
    expect(refused.statusCode).toBe(409);
    expect(drains).toBe(0);
    const drain = await app.inject({ method: 'POST', url: '/admin/drain' });
    expect(drain.statusCode).toBe(202);
    expect(drains).toBe(1);
    worker.state = 'draining';
    expect([await status('/health/ready'), await status('/health/live')]).toEqual([503, 200]);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('jobs_in_flight');
    await app.close();
  });
});
