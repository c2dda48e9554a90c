// Many open waits on one gateway: long-polls (GET /v1/jobs/{id}?wait=60) and server-sent event streams held
// open on queued jobs, while a client keeps submitting (every submit commits to the task store). Measured: the
// liveness probe's latency and the submits' latency with no waits open (the baseline, same run) and with all of
// them open, and the gateway's resident memory per open wait.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { percentile } from './stats';
import { startPlatform, type Running } from './platform-bench';

export interface WaitersOptions {
  longPolls: number;
  streams: number;
  /** Queued jobs the waits are spread over. */
  jobs: number;
  /** How long each phase probes and submits. */
  seconds: number;
}

export interface WaitersResult {
  opened: { longPolls: number; streams: number };
  baseline: { liveP50: number; liveP99: number; submitP50: number; submitP99: number; submits: number };
  loaded: { liveP50: number; liveP99: number; submitP50: number; submitP99: number; submits: number };
  rssBytesPerWait: number;
}

const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/** Probes /health/live one after another and submits one job every 50 ms, for `seconds`; latencies in ms. */
async function probeAndSubmit(p: Running, seconds: number) {
  const live: number[] = [];
  const submits: number[] = [];
  const end = Date.now() + seconds * 1000;
  const prober = (async () => {
    while (Date.now() < end) {
      const t = performance.now();
      await (await fetch(`${p.gateway.url}/health/live`)).arrayBuffer();
      live.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const submitter = (async () => {
    while (Date.now() < end) {
      const t = performance.now();
      const res = await fetch(`${p.gateway.url}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ocr-en', input: { image: PNG } }),
      });
      await res.arrayBuffer();
      if (res.status === 202) submits.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await Promise.all([prober, submitter]);
  return {
    liveP50: percentile(live, 50),
    liveP99: percentile(live, 99),
    submitP50: percentile(submits, 50),
    submitP99: percentile(submits, 99),
    submits: submits.length,
  };
}

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]).toString('base64');

export async function waiters(options: WaitersOptions): Promise<WaitersResult> {
  const total = options.longPolls + options.streams;
  const p = await startPlatform(false, {
    WAITS_MAX_PER_TENANT: String(total + 100),
    WAITS_MAX_OPEN: String(total + 100),
    LOG_LEVEL: 'warn',
  });
  p.gateway.child.quiet();
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const open: { destroy(): void }[] = [];
  try {
    const ids: string[] = [];
    for (let i = 0; i < options.jobs; i++) {
      const res = await fetch(`${p.gateway.url}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ocr-en', input: { image: PNG } }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const baseline = await probeAndSubmit(p, options.seconds);
    const rssBefore = rssBytes(p.gateway.pid);
    const url = new URL(p.gateway.url);
    let answered = 0;
    let refused = 0;
    const openOne = (path: string, accept: string) =>
      new Promise<void>((resolve) => {
        const req = request(
          { host: url.hostname, port: url.port, path, agent, headers: { authorization: `Bearer ${p.token}`, accept } },
          (res) => {
            if (res.statusCode !== 200) refused += 1;
            res.on('data', () => undefined);
            res.on('end', () => (answered += 1));
            resolve();
          },
        );
        req.on('error', () => resolve());
        req.end();
        open.push(req);
        // a long-poll answers only when its time is up: count it as open once the request is written
        if (accept === 'application/json') req.on('finish', () => resolve());
      });
    // open them in batches, so the listen backlog never overflows
    for (let i = 0; i < options.longPolls; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, options.longPolls - i) }, (_, k) =>
          openOne(`/v1/jobs/${ids[(i + k) % ids.length]}?wait=60`, 'application/json'),
        ),
      );
    }
    for (let i = 0; i < options.streams; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, options.streams - i) }, (_, k) =>
          openOne(`/v1/jobs/${ids[(i + k) % ids.length]}/events`, 'text/event-stream'),
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 2_000)); // every wait registered
    const loaded = await probeAndSubmit(p, options.seconds);
    const rssAfter = rssBytes(p.gateway.pid);
    if (answered > 0 || refused > 0) throw new Error(`${answered} waits ended early (${refused} refused): the figures would not hold`);
    return {
      opened: { longPolls: options.longPolls, streams: options.streams },
      baseline,
      loaded,
      rssBytesPerWait: Math.max(0, rssAfter - rssBefore) / total,
    };
  } finally {
    for (const r of open) r.destroy();
    agent.destroy();
    await p.stop();
  }
}
