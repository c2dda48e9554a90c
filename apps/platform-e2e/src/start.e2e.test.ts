// `npm start` as a person runs it: with a quiet log level (control never travels through log lines), refusing a
// second instance on the same data directory and a port in use, each in one clear line, and leaving no process
// behind when it is killed outright.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeTempDir, workspaceRoot } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';

const root = workspaceRoot();
const started: ChildProcess[] = [];
const dirs: { remove(): void }[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

function npmStart(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/cli/src/start.ts'], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.base.json'), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) d.remove();
});

describe('npm start', () => {
  it('starts with LOG_LEVEL=warn, refuses a second instance and a busy port, and leaves nothing behind when killed', async () => {
    const dir = makeTempDir('npm-start-');
    dirs.push(dir);
    const [port, scalerPort] = [await freePort(), await freePort()];
    const env = { DATA_DIR: dir.path, PORT: String(port), SCALER_PORT: String(scalerPort), LOG_LEVEL: 'warn', SCALER_MAX_WORKERS: '1' };
    const first = npmStart(env);
    // its state, not its log: the scaler's status shows a ready worker, the gateway answers ready
    const workerPids = await until(
      'a ready worker',
      async () => {
        try {
          const s = (await (await fetch(`http://127.0.0.1:${scalerPort}/status`)).json()) as {
            lanes: { readyWorkers: number; pids: number[] }[];
          };
          return s.lanes.every((l) => l.readyWorkers > 0) ? s.lanes.flatMap((l) => l.pids) : undefined;
        } catch {
          return undefined;
        }
      },
      180_000,
    );
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    await until('the banner', () => (/The platform is running/.test(first.output()) ? true : undefined), 60_000);

    // a second instance on the same data directory: one clear line, exit 1, nothing started
    const second = npmStart({ ...env, PORT: String(await freePort()), SCALER_PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`another npm start (pid ${first.child.pid}) is using ${dir.path}`);

    // a busy port, another data directory: one clear line naming the variable
    const other = makeTempDir('npm-start-');
    dirs.push(other);
    const third = npmStart({ ...env, DATA_DIR: other.path });
    expect(await third.exited).toBe(1);
    expect(third.output()).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use: set PORT to a free port`));
    expect(third.output()).not.toMatch(/The platform is running/);

    // killed outright: the gateway, the scaler and its workers see their parent gone and stop (tsx's esbuild
    // helpers go with them)
    const descendants = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...descendants(c)]);
    const platform = descendants(first.child.pid as number);
    expect(platform).toEqual(expect.arrayContaining(workerPids));
    expect(platform.length).toBeGreaterThanOrEqual(3);
    first.child.kill('SIGKILL');
    await first.exited;
    await until('every process of the platform gone', () => ([...platform, ...workerPids].some(alive) ? undefined : true), 90_000);
  }, 420_000);
});
