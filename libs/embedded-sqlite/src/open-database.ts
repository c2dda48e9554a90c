import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** A database file was written by a newer build than this one. */
export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `${path} has schema version ${found}, but this build supports up to ${supported}; upgrade the platform or use another data directory`,
    );
  }
}

/**
 * How hard each commit waits for the disk. NORMAL (default) survives a crash or kill of any process;
 * only an OS crash or power loss can lose the last commits. FULL also survives those, at a cost per commit.
 */
export type SynchronousMode = 'NORMAL' | 'FULL';

export interface OpenDatabaseOptions {
  path: string;
  /** Migration i (0-based) moves the schema from version i to i+1. Never edit a released one; append. */
  migrations: readonly string[];
  synchronous?: SynchronousMode;
  /** How long a write waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) a WAL-mode database and brings its schema up to date. Several processes may
 * open a new file at the same moment (`npm start` starts the gateway and a worker together): switching a
 * new file to WAL takes an exclusive lock and fails with SQLITE_BUSY instead of waiting, so the set-up is
 * retried until the busy timeout.
 */
export function openDatabase(options: OpenDatabaseOptions): DatabaseSync {
  mkdirSync(dirname(options.path), { recursive: true });
  const busyTimeoutMs = Math.trunc(options.busyTimeoutMs ?? 10_000);
  const giveUpAt = Date.now() + busyTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    const db = new DatabaseSync(options.path);
    try {
      db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}`);
      db.exec('PRAGMA foreign_keys = ON');
      migrate(db, options.path, options.migrations);
      return db;
    } catch (err) {
      db.close();
      if (!isBusy(err) || Date.now() >= giveUpAt) throw err;
      sleepSync(Math.min(200, 10 * attempt));
    }
  }
}

function isBusy(err: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test((err as Error)?.message ?? '');
}

/** Start-up only: blocks this thread briefly before the next attempt. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  return row.user_version;
}

function migrate(db: DatabaseSync, path: string, migrations: readonly string[]): void {
  const target = migrations.length;
  if (schemaVersion(db) === target) return;
  // Several processes may open the same file at once: the write lock makes one of them migrate.
  immediate(db, () => {
    const found = schemaVersion(db);
    if (found > target) throw new SchemaVersionError(path, found, target);
    for (let v = found; v < target; v++) db.exec(migrations[v] as string);
    db.exec(`PRAGMA user_version = ${target}`);
  });
}

/** Runs fn inside BEGIN IMMEDIATE ... COMMIT: the write lock is taken up front, so no upgrade deadlock. */
export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
