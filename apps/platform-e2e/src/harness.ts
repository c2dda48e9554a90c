import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { localIssuerToken, type TokenRequest } from '@gpu-jobs/auth';
import { PlatformProcess, makeTempDir, workspaceRoot, writeAddBiasModel, writeSlowModel } from '@gpu-jobs/testing';

export const FIXTURES = join(workspaceRoot(), 'libs/runners/testdata');
export const TERMINAL = ['succeeded', 'failed', 'cancelled', 'expired'];
export const SLOW_WIDTH = 1024;

export interface PlatformEnvOptions {
  /** Extra environment for both apps. */
  extra?: Record<string, string>;
  /** The registry's lane settings (dispatch window, backlog cap). */
  lanes?: Record<string, { dispatchWindow?: number; maxBacklog?: number }>;
  /** Tenants beyond the generous defaults every test tenant gets. */
  tenants?: Record<string, unknown>;
}

/** Tenants of the end-to-end tests: everyone may do a lot, so tests meet only the limits they set up. */
export const TEST_TENANT_DEFAULTS = {
  models: ['*'],
  maxInputBytes: 16 * 1024 * 1024,
  maxConcurrentJobs: 10_000,
  requestsPerMinute: 600_000,
  dailyBudget: 1e9,
};

/**
 * A data directory, a model registry (the repository's OCR model plus a slow and a fast tensor model), a
 * tenants file and the env both apps read.
 */
export function makePlatformEnv(options: PlatformEnvOptions = {}) {
  const dir = makeTempDir('platform-e2e-');
  const slowPath = join(dir.path, 'slow.onnx');
  writeSlowModel(slowPath, SLOW_WIDTH, 600);
  const fastPath = join(dir.path, 'add-bias.onnx');
  writeAddBiasModel(fastPath);
  const registry = JSON.parse(readFileSync(join(workspaceRoot(), 'config/models.json'), 'utf8')) as Record<string, unknown> & {
    models: Record<string, unknown>[];
  };
  registry.models.push(
    {
      id: 'slow',
      description: 'test: about two seconds of MatMul per job',
      runner: 'tensor',
      lane: 'small-gpu',
      weights: { files: { model: slowPath } },
      input: { kind: 'tensor', maxBytes: 8 * 1024 * 1024, tensors: [{ name: 'x', datatype: 'float32', shape: ['n', SLOW_WIDTH] }] },
      limits: { timeoutSeconds: 60, maxAttempts: 3, maxBatch: 1 },
      costUnits: 1,
    },
    {
      id: 'fast',
      description: 'test: adds a bias to a vector, in microseconds',
      runner: 'tensor',
      lane: 'small-gpu',
      weights: { files: { model: fastPath } },
      input: { kind: 'tensor', maxBytes: 1024 * 1024, tensors: [{ name: 'x', datatype: 'float32', shape: ['n', 3] }] },
      limits: { timeoutSeconds: 30, maxAttempts: 3, maxBatch: 1 },
      costUnits: 1,
    },
  );
  if (options.lanes) registry['lanes'] = options.lanes;
  const registryPath = join(dir.path, 'models.json');
  writeFileSync(registryPath, JSON.stringify(registry));
  const tenantsPath = join(dir.path, 'tenants.json');
  writeTenants(tenantsPath, { acme: {}, globex: {}, ...options.tenants });
  const env = {
    DATA_DIR: dir.path,
    MODEL_REGISTRY: registryPath,
    TENANTS_FILE: tenantsPath,
    QUEUE_LOCK_SECONDS: '2',
    WORKER_RECEIVE_WAIT_SECONDS: '1',
    BODY_LIMIT_BYTES: String(4 * 1024 * 1024),
    ...options.extra,
  };
  return { dir, env, tenantsPath };
}

export function writeTenants(path: string, tenants: Record<string, unknown>): void {
  writeFileSync(path, JSON.stringify({ defaults: TEST_TENANT_DEFAULTS, tenants }));
}

/** Input for the fast model. */
export const FAST_INPUT = { inputs: [{ name: 'x', datatype: 'float32', shape: [1, 3], data: [1, 1, 1] }] };

/** Input for the slow model: `rows` x SLOW_WIDTH ones. */
export function slowInput(rows = 512) {
  return { inputs: [{ name: 'x', datatype: 'float32', shape: [rows, SLOW_WIDTH], data: new Array(rows * SLOW_WIDTH).fill(1) }] };
}

export function image(name: string): string {
  return readFileSync(join(FIXTURES, name)).toString('base64');
}

export async function tokenFor(dataDir: string, tenant: string, overrides: Partial<TokenRequest> = {}): Promise<string> {
  return localIssuerToken(dataDir, tenant, overrides);
}

export interface JobView {
  id: string;
  status: string;
  priority?: string;
  attempts: number;
  cost?: { day: string; reserved: number; charged?: number };
  cancelRequested?: boolean;
  startedAt?: string;
  finishedAt?: string;
  result?: { text?: string; lines?: unknown[]; outputs?: unknown[] };
  error?: { code: string; message: string };
  progress?: unknown;
}

/**
 * Declares a body of `declaredBytes` and sends only its first kilobyte over a raw socket, then reads the
 * answer: a server that checks Content-Length answers 413 at once, and the test never races the upload
 * against the server closing the connection.
 */
export function postOversize(
  url: string,
  headers: Record<string, string>,
  declaredBytes: number,
): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let raw = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no answer; got ${JSON.stringify(raw)}`))), 10_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (raw += chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    socket.on('error', () => undefined); // the server may close while we write; the answer is what counts
    const lines = [
      `POST ${pathname} HTTP/1.1`,
      `host: ${hostname}:${port}`,
      `content-length: ${declaredBytes}`,
      'connection: close',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(lines.join('\r\n') + '\r\n\r\n' + '{"model":"ocr-en","input":{"image":"' + 'A'.repeat(1024));
  });
}

/** A client of one gateway for one tenant. */
export class Client {
  constructor(
    readonly gateway: PlatformProcess,
    readonly token: string,
  ) {}

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(this.gateway.url + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
  }

  async submit(model: string, input: unknown, headers: Record<string, string> = {}): Promise<JobView> {
    const res = await this.request('POST', '/v1/jobs', { model, input }, headers);
    if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as JobView;
  }

  async job(id: string): Promise<JobView> {
    return (await (await this.request('GET', `/v1/jobs/${id}`)).json()) as JobView;
  }

  /** Long-polls until the job is terminal (bounded by timeoutMs). */
  async finished(id: string, timeoutMs = 60_000): Promise<JobView> {
    const until = Date.now() + timeoutMs;
    let job = await this.job(id);
    while (!TERMINAL.includes(job.status) && Date.now() < until) {
      job = (await (await this.request('GET', `/v1/jobs/${id}?wait=10`)).json()) as JobView;
    }
    return job;
  }

  /** Polls until the job reaches `status` (bounded). */
  async reaches(id: string, status: string, timeoutMs = 30_000): Promise<JobView> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.job(id);
      if (job.status === status || Date.now() > until) return job;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
