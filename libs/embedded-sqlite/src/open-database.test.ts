import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TsChild, releaseTogether } from '@gpu-jobs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeSignal } from './change-signal';
import { SchemaVersionError, immediate, openDatabase } from './open-database';

const dirs: string[] = [];
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-'));
  dirs.push(dir);
  return join(dir, 'test.db');
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const v1 = ['CREATE TABLE a (x INTEGER)'];
const v2 = [...v1, 'ALTER TABLE a ADD COLUMN y TEXT'];

describe('openDatabase', () => {
  it('creates the file in WAL mode at the latest schema version', () => {
    const db = openDatabase({ path: tempPath(), migrations: v2 });
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 });
    db.prepare('INSERT INTO a (x, y) VALUES (1, ?)').run('z');
    db.close();
  });

  it('migrates an older file and keeps its rows', () => {
    const path = tempPath();
    const old = openDatabase({ path, migrations: v1 });
    old.prepare('INSERT INTO a (x) VALUES (7)').run();
    old.close();
    const db = openDatabase({ path, migrations: v2 });
    expect(db.prepare('SELECT x, y FROM a').all()).toEqual([{ x: 7, y: null }]);
    db.close();
  });

  it('refuses a file written by a newer build, with a clear error', () => {
    const path = tempPath();
    openDatabase({ path, migrations: v2 }).close();
    expect(() => openDatabase({ path, migrations: v1 })).toThrow(SchemaVersionError);
    expect(() => openDatabase({ path, migrations: v1 })).toThrow(/schema version 2, but this build supports up to 1/);
  });

  it('several processes can create the same new file at once', async () => {
    const script = join(dirname(tempPath()), 'open.mts');
    writeFileSync(
      script,
      `import { openDatabase } from '@gpu-jobs/embedded-sqlite';
       import { waitForGo } from '@gpu-jobs/testing';
       const { path } = JSON.parse(process.argv[2] ?? '{}');
       await waitForGo(path + '.go');
       const db = openDatabase({ path, migrations: ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (y INTEGER)'] });
       db.prepare('INSERT INTO a (x) VALUES (1)').run();
       console.log(JSON.stringify({ opened: true }));
       db.close();`,
    );
    for (let round = 0; round < 5; round++) {
      const path = tempPath(); // a new file each round: creating it is the race
      const children = Array.from({ length: 4 }, () => TsChild.start(script, { path }));
      try {
        await releaseTogether(children, `${path}.go`); // all open at once
        await Promise.all(children.map((c) => c.waitForLine((l) => l['opened'] === true, 30_000)));
      } finally {
        await Promise.all(children.map((c) => c.stop()));
      }
      const db = openDatabase({ path, migrations: ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (y INTEGER)'] });
      expect(db.prepare('SELECT count(*) AS n FROM a').get()).toEqual({ n: 4 });
      db.close();
    }
  }, 90_000);

  it('rolls back a failed transaction', () => {
    const db = openDatabase({ path: tempPath(), migrations: v1 });
    expect(() =>
      immediate(db, () => {
        db.prepare('INSERT INTO a (x) VALUES (1)').run();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(db.prepare('SELECT count(*) AS n FROM a').get()).toEqual({ n: 0 });
    expect(db.isTransaction).toBe(false);
    db.close();
  });
});

describe('ChangeSignal', () => {
  it('wakes a waiter when another connection writes to the file', async () => {
    const path = tempPath();
    const writer = openDatabase({ path, migrations: v1 });
    const signal = new ChangeSignal(path);
    const started = Date.now();
    const waiting = signal.wait(5_000);
    setTimeout(() => writer.prepare('INSERT INTO a (x) VALUES (1)').run(), 50);
    await waiting;
    expect(Date.now() - started).toBeLessThan(4_000);
    signal.close();
    writer.close();
  });

  it('a change between reading the version and waiting is not missed', async () => {
    const signal = new ChangeSignal(tempPath());
    const seen = signal.version;
    signal.notify(); // lands after the caller checked for work, before it waits
    const started = Date.now();
    await signal.wait(5_000, undefined, seen);
    expect(Date.now() - started).toBeLessThan(100);
    signal.close();
  });

  it('a wait ends at its bound or on abort', async () => {
    const signal = new ChangeSignal(tempPath());
    await signal.wait(10);
    const ac = new AbortController();
    const waiting = signal.wait(60_000, ac.signal);
    ac.abort();
    await waiting;
    signal.close();
  });
});
