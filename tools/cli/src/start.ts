// npm start: the platform on one machine with embedded defaults: the gateway, and the scaler's local loop,
// which starts workers (1 to SCALER_MAX_WORKERS) on demand; all share DATA_DIR (./.data). Ctrl-C (or SIGTERM)
// drains the workers and stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { isListeningMessage } from '@gpu-jobs/config';
import { acquireDataDirLock } from './data-dir-lock';

const gatewayPort = process.env['PORT'] ?? '8080';
const scalerPort = process.env['SCALER_PORT'] ?? '8082';
const host = process.env['HOST'] ?? '127.0.0.1';
const base = `http://${host}:${gatewayPort}`;
const dataDir = resolve(process.env['DATA_DIR'] ?? './.data');

/** One clear line and exit 1: for what a person can fix (a port in use, a second instance). */
function refuse(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

/** Whether a TCP port can be listened on now (then released at once). */
function portFree(port: number, on: string): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, on, () => probe.close(() => done(true)));
  });
}

// one instance per data directory: a second one would start workers that take the first one's jobs
const lock = acquireDataDirLock(dataDir);
if (!lock.ok) refuse(`another npm start (pid ${lock.holder}) is using ${dataDir}; stop it, or set DATA_DIR to another folder`);
for (const [variable, port] of [
  ['PORT', gatewayPort],
  ['SCALER_PORT', scalerPort],
] as const) {
  if (!(await portFree(Number(port), host))) refuse(`port ${port} on ${host} is in use: set ${variable} to a free port`);
}

/** The ports our own children announced (so readiness is never answered by another process on the port). */
const listening = new Map<string, number>();

function start(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.base.json', ...env },
    // the IPC channel: each child says where it listens, and stops if this process dies
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.on('message', (m) => {
    if (isListeningMessage(m)) listening.set(name, m.port);
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    // the apps log JSON; show the message, keep the rest available with LOG_FORMAT=json
    if (process.env['LOG_FORMAT'] === 'json') return console.log(line);
    try {
      const { level, msg, time, service, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
      // the scaler passes its workers' lines on: name them by their own service
      const who = typeof service === 'string' ? service : name;
      console.log(`${String(time).slice(11, 23)} ${who.padEnd(7)} ${level === 50 || level === 60 ? 'ERROR ' : ''}${msg}${extra}`);
    } catch {
      console.log(`${name.padEnd(7)} ${line}`);
    }
  });
  return child;
}

// local development: webhooks to a receiver on this machine are allowed (never in production)
const gateway = start('gateway', 'apps/gateway/src/main.ts', {
  PORT: gatewayPort,
  HOST: host,
  WEBHOOK_ALLOW_LOOPBACK: process.env['WEBHOOK_ALLOW_LOOPBACK'] ?? 'true',
});
// the scaler's local loop starts and stops the workers (min 1, max SCALER_MAX_WORKERS) and runs the scaling tiers
const scaler = start('scaler', 'apps/scaler/src/local-main.ts', {
  PORT: scalerPort,
  HOST: host,
  SCALER_MIN_WORKERS: process.env['SCALER_MIN_WORKERS'] ?? '1',
  SCALER_MAX_WORKERS: process.env['SCALER_MAX_WORKERS'] ?? '2',
});
const children = [gateway, scaler];

let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined))).then(() => {
    lock.release();
    process.exit(code);
  });
};
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
for (const c of children)
  c.once('exit', (code) => !stopping && (console.error(`a platform process exited (code ${code}); stopping`), stop(1)));

/** Until our own gateway has announced its port and answers ready there. */
async function ready(path: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !stopping) {
    try {
      const port = listening.get('gateway');
      if (port !== undefined && (await fetch(`http://${host}:${port}${path}`)).ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Until the scaler reports a ready worker in every lane. */
async function workersReady(timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !stopping) {
    try {
      const port = listening.get('scaler');
      if (port === undefined) throw new Error('the scaler has not announced its port yet');
      const status = (await (await fetch(`http://${host}:${port}/status`)).json()) as { lanes: { readyWorkers: number }[] };
      if (status.lanes.length > 0 && status.lanes.every((l) => l.readyWorkers > 0)) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

if ((await ready('/health/ready', 60_000)) && (await workersReady(180_000))) {
  console.log(`
  The platform is running (embedded defaults, data in ${dataDir}).
    API:     ${base}
    Docs:    ${base}/docs
    Token:   npm run token -- --tenant acme      (then: Authorization: Bearer <token>; tenants: config/tenants.json)
    Try it:  npm run submit -- libs/runners/testdata/page.png
    Workers: ${process.env['SCALER_MIN_WORKERS'] ?? '1'} to ${process.env['SCALER_MAX_WORKERS'] ?? '2'}, scaled on demand (status: http://${host}:${scalerPort}/status)
  Ctrl-C stops it.
`);
}
