import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { localIssuerToken } from '@gpu-jobs/auth';
import { loadModel, loadModelRegistry, type ResolvedModel } from '@gpu-jobs/runners';
import { PlatformProcess, TsChild, makeTempDir, workspaceRoot } from '@gpu-jobs/testing';
import { median, percentile } from './stats';

const root = workspaceRoot();
const IMAGES = ['page.png', 'page.jpg'].map((f) => readFileSync(join(root, 'libs/runners/testdata', f)));

export interface PlatformBenchOptions {
  images: number;
  latencySamples: number;
  loadSeconds: number;
  connections: number;
}

/** Median seconds per image of the OCR pipeline called directly in this process, and images/s over the set. */
export async function ocrDirect(n: number): Promise<{ perImage: number[]; imagesPerSecond: number }> {
  const registry = loadModelRegistry(join(root, 'config/models.json'), root);
  const model = await loadModel(registry.get('ocr-en') as ResolvedModel);
  await model.warmUp();
  const perImage: number[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await model.run(IMAGES[i % IMAGES.length] as Buffer);
    perImage.push((performance.now() - t) / 1000);
  }
  const seconds = (performance.now() - started) / 1000;
  await model.release();
  return { perImage, imagesPerSecond: n / seconds };
}

export interface Running {
  gateway: PlatformProcess;
  worker?: PlatformProcess;
  token: string;
  stop: () => Promise<void>;
}

export async function startPlatform(withWorker: boolean, extraEnv: Record<string, string> = {}): Promise<Running> {
  const dir = makeTempDir('bench-platform-');
  // the repository's models with a backlog cap no benchmark reaches, and a tenant whose limits never bind
  const registry = JSON.parse(readFileSync(join(workspaceRoot(), 'config/models.json'), 'utf8')) as Record<string, unknown>;
  registry['lanes'] = { 'small-gpu': { maxBacklog: 10_000_000 } };
  writeFileSync(join(dir.path, 'models.json'), JSON.stringify(registry));
  const unlimited = { models: ['*'], maxInputBytes: 1 << 26, maxConcurrentJobs: 1e9, requestsPerMinute: 1e9, dailyBudget: 1e12 };
  writeFileSync(join(dir.path, 'tenants.json'), JSON.stringify({ defaults: unlimited, tenants: { bench: {} } }));
  const env = {
    DATA_DIR: dir.path,
    MODEL_REGISTRY: join(dir.path, 'models.json'),
    TENANTS_FILE: join(dir.path, 'tenants.json'),
    ...extraEnv,
  };
  const gateway = await PlatformProcess.start('gateway', env);
  const worker = withWorker ? await PlatformProcess.start('worker', env) : undefined;
  await worker?.waitFor('/health/ready', 200);
  const token = await localIssuerToken(dir.path, 'bench');
  return {
    gateway,
    ...(worker ? { worker } : {}),
    token,
    stop: async () => {
      await Promise.all([gateway.stop('SIGKILL'), worker?.stop('SIGKILL')]);
      dir.remove();
    },
  };
}

function submitBody(i: number): string {
  return JSON.stringify({ model: 'ocr-en', input: { image: (IMAGES[i % IMAGES.length] as Buffer).toString('base64') } });
}

async function submit(p: Running, i: number): Promise<string> {
  const res = await fetch(`${p.gateway.url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
    body: submitBody(i),
  });
  if (res.status !== 202) throw new Error(`submit answered ${res.status}`);
  return ((await res.json()) as { id: string }).id;
}

async function finished(p: Running, id: string): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const job = (await (
      await fetch(`${p.gateway.url}/v1/jobs/${id}?wait=30`, { headers: { authorization: `Bearer ${p.token}` } })
    ).json()) as { status: string };
    if (job.status === 'succeeded') return;
    if (['failed', 'cancelled', 'expired'].includes(job.status)) throw new Error(`job ${id} ended ${job.status}`);
  }
  throw new Error(`job ${id} did not finish`);
}

/**
 * Through the platform with one worker: (1) all N images submitted at once, time until the last result;
 * (2) one job at a time, the client's submit-to-result latency for each.
 */
export async function throughPlatform(options: PlatformBenchOptions): Promise<{ imagesPerSecond: number; latencies: number[] }> {
  const p = await startPlatform(true);
  try {
    for (let i = 0; i < 4; i++) await finished(p, await submit(p, i)); // warm the path
    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: options.images }, (_, i) => submit(p, i)));
    await Promise.all(ids.map((id) => finished(p, id)));
    const imagesPerSecond = options.images / ((performance.now() - started) / 1000);
    const latencies: number[] = [];
    for (let i = 0; i < options.latencySamples; i++) {
      const t = performance.now();
      await finished(p, await submit(p, i));
      latencies.push((performance.now() - t) / 1000);
    }
    return { imagesPerSecond, latencies };
  } finally {
    await p.stop();
  }
}

async function load(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: PlatformBenchOptions,
): Promise<{ rps: number; p50: number; p99: number; errors: number; non2xx: number }> {
  const result = await autocannon({
    url,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    connections: options.connections,
    duration: options.loadSeconds,
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

/** The gateway's submit rate (auth, input blob, job row, queue message; no worker) against bare Fastify, same load tool. */
export async function submitRate(options: PlatformBenchOptions) {
  const hello = TsChild.start(fileURLToPath(new URL('./hello-server.ts', import.meta.url)), {});
  const p = await startPlatform(false);
  try {
    const port = (await hello.waitForLine((l) => l['msg'] === 'hello listening'))['port'] as number;
    const body = submitBody(0);
    p.gateway.child.quiet(); // its log lines are not the load generator's business
    const bare = await load(`http://127.0.0.1:${port}/hello`, body, {}, options);
    const gateway = await load(`${p.gateway.url}/v1/jobs`, body, { authorization: `Bearer ${p.token}` }, options);
    return { bare, gateway, bodyBytes: body.length };
  } finally {
    await hello.stop();
    await p.stop();
  }
}

/** Worker process start to /health/ready (models loaded and warmed), and its RSS when ready. */
export async function workerStart(runs: number): Promise<{ seconds: number[]; rssMiB: number[]; bundled: boolean }> {
  const bundle = join(root, 'dist/apps/worker/main.js');
  // measure the bundle of this checkout, never a stale one (Nx rebuilds only when sources changed)
  const build = spawnSync(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), 'build', 'worker', '--outputStyle=static'], {
    cwd: root,
    stdio: 'ignore',
  });
  const bundled = build.status === 0 && existsSync(bundle);
  const seconds: number[] = [];
  const rssMiB: number[] = [];
  for (let r = 0; r < runs; r++) {
    const dir = makeTempDir('bench-worker-');
    const started = performance.now();
    const worker = bundled ? await startBundledWorker(bundle, dir.path) : await PlatformProcess.start('worker', { DATA_DIR: dir.path });
    try {
      await worker.waitFor('/health/ready', 200, 60_000);
      seconds.push((performance.now() - started) / 1000);
      const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
      rssMiB.push(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } finally {
      await worker.stop();
      dir.remove();
    }
  }
  return { seconds, rssMiB, bundled };
}

/** The esbuild bundle as the container runs it: `node main.js`, no TypeScript loader. */
async function startBundledWorker(bundle: string, dataDir: string): Promise<PlatformProcess> {
  const child = spawn(process.execPath, [bundle], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return PlatformProcess.attach(child);
}

export { median, percentile };
