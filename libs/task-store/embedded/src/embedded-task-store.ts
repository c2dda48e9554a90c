import { join } from 'node:path';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { ChangeSignal, immediate, openDatabase, type SynchronousMode } from '@gpu-jobs/embedded-sqlite';
import type { Job, JobVersion } from '@gpu-jobs/job-contract';
import {
  DuplicateJobError,
  IdempotencyConflictError,
  decodeCursor,
  encodeCursor,
  type CreateOptions,
  type CreateResult,
  type DueQuery,
  type JobPage,
  type ListJobsQuery,
  type TaskStore,
  type UsageChange,
} from '@gpu-jobs/task-store';
import { TASK_STORE_MIGRATIONS } from './schema';

export interface EmbeddedTaskStoreOptions {
  /** Folder of the platform's data; the store lives in `<dataDir>/tasks.db`. */
  dataDir: string;
  synchronous?: SynchronousMode;
}

type Statements = ReturnType<typeof prepareStatements>;

/** Upper bound of one sleep in waitForJobChange, in case a file-change event is missed. */
const MAX_SLEEP_MS = 1_000;

function prepareStatements(db: DatabaseSync) {
  return {
    insert: db.prepare(
      `INSERT INTO jobs (id, tenant_id, model, status, attempts, updated_at, created_ms, deadline_ms, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    get: db.prepare('SELECT doc FROM jobs WHERE id = ?'),
    cas: db.prepare(
      `UPDATE jobs SET status = ?, attempts = ?, updated_at = ?, deadline_ms = ?, doc = ?
       WHERE id = ? AND status = ? AND attempts = ? AND updated_at = ?`,
    ),
    keyGet: db.prepare('SELECT job_id, request_hash, expires_ms FROM idempotency_keys WHERE tenant_id = ? AND key = ?'),
    keyPut: db.prepare(
      `INSERT INTO idempotency_keys (tenant_id, key, job_id, request_hash, expires_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, key) DO UPDATE SET job_id = excluded.job_id, request_hash = excluded.request_hash, expires_ms = excluded.expires_ms`,
    ),
    keyPrune: db.prepare('DELETE FROM idempotency_keys WHERE expires_ms <= ?'),
    countActive: db.prepare("SELECT count(*) AS n FROM jobs WHERE tenant_id = ? AND status IN ('queued', 'running')"),
    usageGet: db.prepare('SELECT amount FROM usage WHERE tenant_id = ? AND day = ?'),
    usagePut: db.prepare(
      'INSERT INTO usage (tenant_id, day, amount) VALUES (?, ?, ?) ON CONFLICT (tenant_id, day) DO UPDATE SET amount = excluded.amount',
    ),
  } satisfies Record<string, StatementSync>;
}

/** The task store in one SQLite file; safe to share between the gateway, workers and the scaler on one machine. */
export class EmbeddedTaskStore implements TaskStore {
  private readonly db: DatabaseSync;
  private readonly sql: Statements;
  private readonly path: string;
  private signal: ChangeSignal | undefined;
  private closed = false;

  private constructor(options: EmbeddedTaskStoreOptions) {
    this.path = join(options.dataDir, 'tasks.db');
    this.db = openDatabase({
      path: this.path,
      migrations: TASK_STORE_MIGRATIONS,
      synchronous: options.synchronous,
    });
    this.sql = prepareStatements(this.db);
  }

  static open(options: EmbeddedTaskStoreOptions): EmbeddedTaskStore {
    return new EmbeddedTaskStore(options);
  }

  async create(job: Job, options: CreateOptions = {}): Promise<CreateResult> {
    this.assertOpen();
    if (job.idempotencyKey !== undefined && !options.idempotency) {
      throw new TypeError('a job with an idempotencyKey needs options.idempotency');
    }
    return immediate(this.db, () => {
      const now = Date.now();
      if (job.idempotencyKey !== undefined && options.idempotency) {
        const found = this.sql.keyGet.get(job.tenantId, job.idempotencyKey) as
          { job_id: string; request_hash: string; expires_ms: number } | undefined;
        if (found && found.expires_ms > now) {
          if (found.request_hash !== options.idempotency.requestHash) throw new IdempotencyConflictError(found.job_id);
          const existing = this.read(found.job_id);
          if (existing) return { job: existing, created: false };
        }
        this.sql.keyPut.run(
          job.tenantId,
          job.idempotencyKey,
          job.id,
          options.idempotency.requestHash,
          options.idempotency.expiresAt.getTime(),
        );
      }
      const { changes } = this.sql.insert.run(
        job.id,
        job.tenantId,
        job.model,
        job.status,
        job.attempts,
        job.updatedAt,
        Date.parse(job.createdAt),
        deadlineMs(job),
        JSON.stringify(job),
      );
      if (changes === 0) throw new DuplicateJobError(job.id);
      return { job, created: true };
    });
  }

  async get(id: string, tenantId?: string): Promise<Job | undefined> {
    this.assertOpen();
    const job = this.read(id);
    return job && (tenantId === undefined || job.tenantId === tenantId) ? job : undefined;
  }

  async list(query: ListJobsQuery): Promise<JobPage> {
    this.assertOpen();
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), 100);
    const where = new Where().and('tenant_id = ?', query.tenantId);
    if (query.status) where.and('status = ?', query.status);
    if (query.model) where.and('model = ?', query.model);
    if (query.cursor) {
      const after = decodeCursor(query.cursor);
      where.and('(created_ms < ? OR (created_ms = ? AND id < ?))', after.createdAt, after.createdAt, after.id);
    }
    const sql = `SELECT doc FROM jobs WHERE ${where.sql} ORDER BY created_ms DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...where.params, limit + 1) as { doc: string }[];
    const items = rows.slice(0, limit).map((r) => JSON.parse(r.doc) as Job);
    const last = items.at(-1);
    return rows.length > limit && last
      ? { items, nextCursor: encodeCursor({ createdAt: Date.parse(last.createdAt), id: last.id }) }
      : { items };
  }

  async compareAndSet(id: string, expected: JobVersion, next: Job): Promise<Job | undefined> {
    this.assertOpen();
    if (next.id !== id) throw new TypeError('compareAndSet cannot change a job id');
    const { changes } = this.sql.cas.run(
      next.status,
      next.attempts,
      next.updatedAt,
      deadlineMs(next),
      JSON.stringify(next),
      id,
      expected.status,
      expected.attempts,
      expected.updatedAt,
    );
    return changes > 0 ? next : undefined;
  }

  async findDue(query: DueQuery): Promise<Job[]> {
    this.assertOpen();
    const where = new Where().and('status = ?', query.status);
    if (query.deadlineBefore) where.and('deadline_ms IS NOT NULL AND deadline_ms < ?', query.deadlineBefore.getTime());
    if (query.updatedBefore) where.and('updated_at < ?', query.updatedBefore.toISOString());
    if (query.updatedAfter) where.and('updated_at > ?', query.updatedAfter.toISOString());
    if (query.neverStarted) where.and('attempts = 0');
    const sql = `SELECT doc FROM jobs WHERE ${where.sql} ORDER BY deadline_ms, updated_at LIMIT ?`;
    const rows = this.db.prepare(sql).all(...where.params, Math.max(1, Math.trunc(query.limit))) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as Job);
  }

  async countActive(tenantId: string): Promise<number> {
    this.assertOpen();
    return (this.sql.countActive.get(tenantId) as { n: number }).n;
  }

  async addUsage(tenantId: string, day: string, delta: number, limit?: number): Promise<UsageChange> {
    this.assertOpen();
    if (!Number.isFinite(delta)) throw new RangeError('delta must be a finite number');
    return immediate(this.db, () => {
      const current = (this.sql.usageGet.get(tenantId, day) as { amount: number } | undefined)?.amount ?? 0;
      if (delta > 0 && limit !== undefined && current + delta > limit) return { applied: false, total: current };
      const total = Math.max(0, current + delta);
      this.sql.usagePut.run(tenantId, day, total);
      return { applied: true, total };
    });
  }

  async getUsage(tenantId: string, day: string): Promise<number> {
    this.assertOpen();
    return (this.sql.usageGet.get(tenantId, day) as { amount: number } | undefined)?.amount ?? 0;
  }

  /** Drops expired idempotency keys; the sweeper calls it now and then. */
  async pruneIdempotencyKeys(now = new Date()): Promise<number> {
    this.assertOpen();
    return Number(this.sql.keyPrune.run(now.getTime()).changes);
  }

  async waitForJobChange(
    id: string,
    sinceUpdatedAt: string,
    timeoutMs: number,
    options: { tenantId?: string; signal?: AbortSignal } = {},
  ): Promise<Job | undefined> {
    this.assertOpen();
    this.signal ??= new ChangeSignal(this.path); // watched only by processes that wait
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = this.signal.version; // before reading, so a write right after the read still wakes us
      const job = await this.get(id, options.tenantId);
      const remaining = deadline - Date.now();
      if (!job || job.updatedAt !== sinceUpdatedAt || remaining <= 0 || options.signal?.aborted || this.closed) return job;
      await this.signal.wait(Math.min(remaining, MAX_SLEEP_MS), options.signal, seen);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal?.close();
    this.db.close();
  }

  private read(id: string): Job | undefined {
    const row = this.sql.get.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Job) : undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the task store is closed');
  }
}

/** A WHERE clause built from optional filters, with its parameters in order. */
class Where {
  private readonly clauses: string[] = [];
  readonly params: SQLInputValue[] = [];
  and(clause: string, ...values: SQLInputValue[]): this {
    this.clauses.push(clause);
    this.params.push(...values);
    return this;
  }
  get sql(): string {
    return this.clauses.join(' AND ');
  }
}

function deadlineMs(job: Job): number | null {
  return job.deadlineAt === undefined ? null : Date.parse(job.deadlineAt);
}
