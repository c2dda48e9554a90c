import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACT_PATHS } from './logger';
import { PlatformMetrics } from './metrics';

describe('logger', () => {
  it('redacts credentials and inputs', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info({ jobId: 'j1', headers: { authorization: 'Bearer secret' }, body: { input: { image: 'AAAA' } } }, 'submitted');
    expect(lines[0]).toContain('"jobId":"j1"');
    expect(lines[0]).not.toContain('secret');
    expect(lines[0]).not.toContain('AAAA');
  });
});

describe('metrics', () => {
  it('exports the platform metrics in Prometheus text format', async () => {
    const m = new PlatformMetrics('test');
    m.jobsByStatus.inc({ model: 'ocr-en', status: 'succeeded' });
    m.recordQueue('small-gpu', { active: 3, locked: 1, scheduled: 0, deadLettered: 2 });
    const text = await m.registry.metrics();
    expect(text).toContain('jobs_total{model="ocr-en",status="succeeded",service="test"} 1');
    expect(text).toContain('queue_messages{lane="small-gpu",state="active",service="test"} 3');
    expect(text).toContain('# TYPE inference_duration_seconds histogram');
  });
});
