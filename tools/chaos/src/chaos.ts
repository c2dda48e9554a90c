// A chaos run anyone can repeat: the platform (a gateway, two workers) on a temporary data directory; N jobs
// submitted with idempotency keys (a submit that fails is retried with the same key) while workers are killed
// (SIGKILL) or frozen past their message locks (SIGSTOP, then SIGCONT) and the gateway is killed and restarted;
// then every invariant is checked: every job terminal, none lost, none run to a second result, one terminal
// webhook each, the budget equal to the charges, and every SQLite file intact.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { localIssuerToken } from '@gpu-jobs/auth';
import { PlatformProcess, makeTempDir, writeAddBiasModel } from '@gpu-jobs/testing';

export interface ChaosOptions {
  jobs: number;
  /** Seconds between two faults. */
  killEverySeconds: number;
  /** Seeds the choice of faults, so a run can be repeated. */
  seed?: number;
  /** The last job is held back until this many faults have happened (a barrier for tests on a busy machine). */
  minFaults?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  jobs: number;
  faults: Record<'worker-killed' | 'worker-frozen' | 'gateway-restarted', number>;
  statuses: Record<string, number>;
  /** Violations of the invariants; empty when the run held. */
  violations: string[];
  terminalWebhooks: number;
  budgetUsed: number;
  charged: number;
  seconds: number;
}

interface Job {
  id: string;
  status: string;
  attempts: number;
  cost?: { charged?: number };
  result?: unknown;
}

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'expired'];
const FAST_INPUT = { inputs: [{ name: 'x', datatype: 'float32', shape: [1, 3], data: [1, 1, 1] }] };

/** A small deterministic generator (mulberry32), for the choice of faults. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records every webhook attempt: per job, the distinct ids of terminal deliveries. */
async function webhookReceiver(): Promise<{ server: Server; url: string; terminal: Map<string, Set<string>> }> {
  const terminal = new Map<string, Set<string>>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const event = JSON.parse(body) as { type?: string; data?: { id?: string; status?: string } };
        const id = event.data?.id;
        if (id && TERMINAL.includes(event.data?.status ?? '')) {
          const ids = terminal.get(id) ?? new Set<string>();
          ids.add(String(req.headers['webhook-id']));
          terminal.set(id, ids);
        }
      } catch {
        // not JSON: counted nowhere
      }
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, terminal };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const rand = random(options.seed ?? 1);
  const dir = makeTempDir('chaos-');
  const modelPath = join(dir.path, 'add-bias.onnx');
  writeAddBiasModel(modelPath);
  const registry = {
    models: [
      {
        id: 'fast',
        description: 'chaos: adds a bias to a vector',
        runner: 'tensor',
        lane: 'small-gpu',
        weights: { files: { model: modelPath } },
        input: { kind: 'tensor', maxBytes: 1 << 20, tensors: [{ name: 'x', datatype: 'float32', shape: ['n', 3] }] },
        limits: { timeoutSeconds: 30, maxAttempts: 10, maxBatch: 1 },
        costUnits: 1,
      },
    ],
  };
  writeFileSync(join(dir.path, 'models.json'), JSON.stringify(registry));
  const limits = { models: ['*'], maxInputBytes: 1 << 20, maxConcurrentJobs: 1e6, requestsPerMinute: 1e6, burst: 1e6, dailyBudget: 1e9 };
  writeFileSync(join(dir.path, 'tenants.json'), JSON.stringify({ defaults: limits, tenants: { chaos: {} } }));
  const hooks = await webhookReceiver();
  const env = {
    DATA_DIR: dir.path,
    MODEL_REGISTRY: join(dir.path, 'models.json'),
    TENANTS_FILE: join(dir.path, 'tenants.json'),
    QUEUE_LOCK_SECONDS: '2',
    QUEUE_MAX_DELIVERY_COUNT: '20',
    WORKER_RECEIVE_WAIT_SECONDS: '1',
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    WEBHOOK_RETRY_BASE_MS: '100',
    WEBHOOK_POLL_MS: '50',
    REPAIR_INTERVAL_SECONDS: '2',
    LOG_LEVEL: 'warn',
  };
  const token = await localIssuerToken(dir.path, 'chaos');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const faults = { 'worker-killed': 0, 'worker-frozen': 0, 'gateway-restarted': 0 };
  let gateway = await PlatformProcess.start('gateway', env);
  const workers = await Promise.all([PlatformProcess.start('worker', env), PlatformProcess.start('worker', env)]);
  for (const w of [gateway, ...workers]) w.child.quiet();
  const ids = new Map<number, string>();
  let stopChaos = false;
  try {
    /** A request to the gateway as it is now; a refused connection (a restart) is retried. */
    const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
      for (let tries = 0; ; tries++) {
        try {
          const res = await fetch(`${gateway.url}${path}`, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
          if (res.status < 500) return res;
          await res.arrayBuffer();
        } catch {
          // the gateway is restarting
        }
        if (tries > 600) throw new Error(`${path}: no answer for a minute`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    // the faults, every killEverySeconds
    const chaos = (async () => {
      while (!stopChaos) {
        await new Promise((r) => setTimeout(r, options.killEverySeconds * 1000));
        if (stopChaos) break;
        const roll = rand();
        const w = Math.floor(rand() * workers.length);
        if (roll < 0.4) {
          faults['worker-killed'] += 1;
          await (workers[w] as PlatformProcess).stop('SIGKILL');
          workers[w] = await PlatformProcess.start('worker', env);
          (workers[w] as PlatformProcess).child.quiet();
        } else if (roll < 0.7) {
          // frozen past its lock: the message goes to the other worker; the frozen one's writes are refused after
          faults['worker-frozen'] += 1;
          const pid = (workers[w] as PlatformProcess).pid;
          process.kill(pid, 'SIGSTOP');
          await new Promise((r) => setTimeout(r, 3_000));
          process.kill(pid, 'SIGCONT');
        } else {
          faults['gateway-restarted'] += 1;
          await gateway.stop('SIGKILL');
          gateway = await PlatformProcess.start('gateway', env);
          gateway.child.quiet();
        }
        log(`fault: ${JSON.stringify(faults)}, ${ids.size}/${options.jobs} accepted`);
      }
    })();

    // the submits: each with its own key, retried with the same key until accepted; spread over at least eight
    // fault intervals, so faults land while jobs arrive and run
    const pace = (options.killEverySeconds * 8_000) / options.jobs;
    const submitStart = Date.now();
    const faultCount = () => faults['worker-killed'] + faults['worker-frozen'] + faults['gateway-restarted'];
    for (let i = 0; i < options.jobs; i++) {
      const due = submitStart + i * pace - Date.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      if (i === options.jobs - 1)
        for (const end = Date.now() + 300_000; faultCount() < (options.minFaults ?? 0) && Date.now() < end;)
          await new Promise((r) => setTimeout(r, 100));
      const res = await call('/v1/jobs', {
        method: 'POST',
        headers: { 'idempotency-key': `chaos-${i}` },
        body: JSON.stringify({ model: 'fast', input: FAST_INPUT, webhook: { url: hooks.url } }),
      });
      if (res.status !== 202 && res.status !== 200) throw new Error(`submit ${i} answered ${res.status}: ${await res.text()}`);
      ids.set(i, ((await res.json()) as { id: string }).id);
    }
    stopChaos = true;
    await chaos;

    // every job reaches a terminal state (the repair pass and lock expiry bring back what the faults dropped)
    const jobs = new Map<string, Job>();
    const deadline = Date.now() + 300_000;
    for (const id of new Set(ids.values())) {
      for (;;) {
        const job = (await (await call(`/v1/jobs/${id}?wait=20`)).json()) as Job;
        if (TERMINAL.includes(job.status)) {
          jobs.set(id, job);
          break;
        }
        if (Date.now() > deadline) {
          jobs.set(id, job);
          break;
        }
      }
    }
    // terminal webhooks are delivered (with retries) shortly after
    for (const end = Date.now() + 60_000; [...jobs.keys()].some((id) => !hooks.terminal.has(id)) && Date.now() < end;)
      await new Promise((r) => setTimeout(r, 200));

    const violations: string[] = [];
    const statuses: Record<string, number> = {};
    let charged = 0;
    for (const [id, job] of jobs) {
      statuses[job.status] = (statuses[job.status] ?? 0) + 1;
      if (!TERMINAL.includes(job.status)) violations.push(`job ${id} is still ${job.status}`);
      if (job.status === 'succeeded' && job.result === undefined) violations.push(`job ${id} succeeded without a result`);
      charged += job.cost?.charged ?? 0;
      const hookIds = hooks.terminal.get(id)?.size ?? 0;
      if (hookIds !== 1) violations.push(`job ${id}: ${hookIds} distinct terminal webhooks`);
    }
    if (new Set(ids.values()).size !== options.jobs) violations.push(`${options.jobs} submits made ${new Set(ids.values()).size} jobs`);
    const listed = new Set<string>();
    for (let cursor: string | undefined; ;) {
      const page = (await (await call(`/v1/jobs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json()) as {
        items: { id: string }[];
        nextCursor?: string;
      };
      for (const j of page.items) listed.add(j.id);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    if (listed.size !== options.jobs) violations.push(`the tenant's job list holds ${listed.size} jobs, not ${options.jobs}`);
    const tenant = (await (await call('/v1/tenant')).json()) as { usage: { budgetUsed: number } };
    if (Math.abs(tenant.usage.budgetUsed - charged) > 1e-9)
      violations.push(`budget used ${tenant.usage.budgetUsed} is not the jobs' charges ${charged}`);
    let terminalWebhooks = 0;
    for (const s of hooks.terminal.values()) terminalWebhooks += s.size;

    // the processes stop, then every SQLite file is checked
    await Promise.all([gateway.stop('SIGTERM'), ...workers.map((w) => w.stop('SIGTERM'))]);
    for (const file of readdirSync(dir.path).filter((f) => f.endsWith('.db'))) {
      const db = new DatabaseSync(join(dir.path, file));
      const row = db.prepare('PRAGMA integrity_check').get() as Record<string, string>;
      db.close();
      if (Object.values(row)[0] !== 'ok') violations.push(`${file}: integrity_check ${JSON.stringify(row)}`);
    }
    return {
      jobs: options.jobs,
      faults,
      statuses,
      violations,
      terminalWebhooks,
      budgetUsed: tenant.usage.budgetUsed,
      charged,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    stopChaos = true;
    for (const w of [gateway, ...workers]) {
      try {
        process.kill(w.pid, 'SIGCONT');
      } catch {
        // gone
      }
      await w.stop('SIGKILL');
    }
    hooks.server.close();
    dir.remove();
  }
}
