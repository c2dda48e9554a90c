#!/usr/bin/env node
// Runs a command under the Node version pinned in .nvmrc, with dependencies installed.
//
//   node tools/node/run.mjs <command> [args...]
//
// Works from any Node >= 18 using built-ins only, because on a fresh machine it is the first
// thing that runs. When the running Node is older than .nvmrc, it installs the matching
// `node-<platform>-<arch>` package from the npm registry into .toolchain/ (git-ignored), puts it
// first on PATH, and re-runs itself there. It then runs `npm ci` when node_modules is missing or
// was installed from another package-lock.json, and finally execs the command.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const wanted = readFileSync(join(root, '.nvmrc'), 'utf8').trim().replace(/^v/, '');
const log = (msg) => process.stderr.write(`[toolchain] ${msg}\n`);

function fail(msg) {
  log(msg);
  process.exit(1);
}

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}

function major(version) {
  return Number(version.split('.')[0]);
}

/**
 * Runs fn while holding .toolchain/install.lock, so two commands started at once on a fresh checkout
 * (say `npm start` and `npm run submit`) do not install over each other. mkdir is atomic; a lock left by
 * a killed process is taken over after ten minutes.
 */
function withInstallLock(fn) {
  const lock = join(root, '.toolchain', 'install.lock');
  mkdirSync(dirname(lock), { recursive: true });
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // the holder just released it
      }
      if (waited % 10_000 === 0) log('waiting for another install to finish');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Installs node-<os>-<arch>@<wanted> under .toolchain and returns its folder. */
function ensureNode() {
  const pkg = `node-${process.platform}-${process.arch}`;
  const prefix = join(root, '.toolchain', `node-${wanted}`);
  const home = join(prefix, 'node_modules', pkg);
  const bin = join(home, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(bin))
    withInstallLock(() => {
      if (existsSync(bin)) return;
      log(`Node ${process.versions.node} is older than .nvmrc (${wanted}); installing ${pkg}@${wanted} from the npm registry`);
      mkdirSync(prefix, { recursive: true });
      writeFileSync(join(prefix, 'package.json'), '{ "private": true }\n');
      const status = run('npm', [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-package-lock',
        '--ignore-scripts=false',
        `${pkg}@${wanted}`,
      ]);
      if (status !== 0 || !existsSync(bin)) fail(`installing ${pkg}@${wanted} failed (exit ${status})`);
    });
  return home;
}

function lockHash() {
  const lock = join(root, 'package-lock.json');
  const text = existsSync(lock) ? readFileSync(lock) : readFileSync(join(root, 'package.json'));
  return createHash('sha256').update(text).update(process.version).digest('hex');
}

function ensureDependencies() {
  const stamp = join(root, 'node_modules', '.toolchain-stamp');
  const hash = lockHash();
  const fresh = () => existsSync(stamp) && readFileSync(stamp, 'utf8') === hash;
  if (fresh()) return;
  withInstallLock(() => {
    if (fresh()) return;
    const hasLock = existsSync(join(root, 'package-lock.json'));
    log(`node_modules is ${existsSync(stamp) ? 'stale' : 'missing'}; running npm ${hasLock ? 'ci' : 'install'}`);
    // onnxruntime-node's postinstall downloads CUDA binaries from outside the npm registry; the CPU
    // binaries ship inside the package, so skip it (images that want CUDA set this to cuda12).
    const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip' };
    const status = run('npm', [hasLock ? 'ci' : 'install', '--no-fund', '--no-audit'], env);
    if (status !== 0) fail(`npm ${hasLock ? 'ci' : 'install'} failed (exit ${status})`);
    writeFileSync(stamp, hash);
  });
}

/** Runs the command as a child, passing stop signals on so `kill <pid>` of this wrapper stops it too. */
function execForwarding(cmd, args, env) {
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => fail(`could not run ${cmd}: ${err.message}`));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 1)));
}

const args = process.argv.slice(2);

if (major(process.versions.node) < major(wanted)) {
  const home = ensureNode();
  execForwarding(join(home, 'bin', 'node'), [fileURLToPath(import.meta.url), ...args], {
    ...process.env,
    PATH: `${join(home, 'bin')}${delimiter}${process.env.PATH ?? ''}`,
    // Native addons must build against the headers of the Node that will load them.
    npm_config_nodedir: home,
  });
} else {
  ensureDependencies();
  if (args.length === 0) process.exit(0);
  const binDir = join(root, 'node_modules', '.bin');
  execForwarding(args[0], args.slice(1), { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` });
}
