import { join } from 'node:path';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { ChangeSignal, immediate, openDatabase, type SynchronousMode } from '@gpu-jobs/embedded-sqlite';
import { takeToken, type BucketParams, type TakeResult } from '@gpu-jobs/admission';
import {
  PRIORITY_RANK,
  type Job,
  type JobVersion,
  type NewWebhookDelivery,
  type WebhookAttempt,
  type WebhookDelivery,
  type WriteEffects,
} from '@gpu-jobs/job-contract';
import {
  DuplicateJobError,
  IdempotencyConflictError,
  LimitReachedError,
  decodeCursor,
  encodeCursor,
  laneLoadOf,
  type ClaimedDelivery,
  type CreateOptions,
  type CreateResult,
  type DeliveryOutcome,
  type DueQuery,
  type JobPage,
  type LaneLoad,
  type ListJobsQuery,
  type TaskStore,
  JobChangeWatcher,
} from '@gpu-jobs/task-store';
import { TASK_STORE_MIGRATIONS } from './schema';

export interface EmbeddedTaskStoreOptions {
  /** Folder of the platform's data; the store lives in `<dataDir>/tasks.db`. */
  dataDir: string;
  synchronous?: SynchronousMode;
}

type Statements = ReturnType<typeof prepareStatements>;

/** Change-log rows one read returns at most (a watcher further behind reads again at the next wake-up). */
const CHANGES_PER_READ = 10_000;
/** Change-log rows kept; older ones are pruned now and then. */
const CHANGE_LOG_KEPT = 100_000;

function prepareStatements(db: DatabaseSync) {
  return {
    insert: db.prepare(
      `INSERT INTO jobs (id, tenant_id, model, status, attempts, updated_at, created_ms, deadline_ms, lane, dispatched, dispatched_ms, priority_rank, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    get: db.prepare('SELECT doc FROM jobs WHERE id = ?'),
    // dispatched only ever goes from 0 to 1: a job released to its queue stays released
    cas: db.prepare(
      `UPDATE jobs SET status = ?, attempts = ?, updated_at = ?, deadline_ms = ?, dispatched = max(dispatched, ?),
         dispatched_ms = COALESCE(dispatched_ms, ?), doc = ?
       WHERE id = ? AND status = ? AND attempts = ? AND updated_at = ?`,
    ),
    deleteJob: db.prepare('DELETE FROM jobs WHERE id = ? AND status = ? AND attempts = ? AND updated_at = ?'),
    deleteDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE job_id = ?'),
    laneLoad: db.prepare(
      `SELECT tenant_id,
         SUM(status = 'queued' AND dispatched = 0) AS held,
         SUM(status = 'queued' AND dispatched = 1) AS dispatched,
         SUM(status = 'running') AS running
       FROM jobs WHERE lane = ? AND status IN ('queued', 'running') GROUP BY tenant_id`,
    ),
    lastDispatch: db.prepare('SELECT MAX(dispatched_ms) AS t FROM jobs WHERE lane = ? AND tenant_id = ?'),
    changesSince: db.prepare('SELECT seq, job_id FROM job_changes WHERE seq > ? ORDER BY seq LIMIT ?'),
    changesBounds: db.prepare('SELECT coalesce(min(seq), 0) AS lo, coalesce(max(seq), 0) AS hi FROM job_changes'),
    changesPrune: db.prepare('DELETE FROM job_changes WHERE seq < ?'),
    heldJobs: db.prepare(
      `SELECT doc FROM jobs WHERE lane = ? AND status = 'queued' AND dispatched = 0 AND tenant_id = ?
       ORDER BY priority_rank, created_ms, id LIMIT ?`,
    ),
    bucketGet: db.prepare('SELECT tokens, updated_ms FROM rate_buckets WHERE key = ?'),
    bucketPut: db.prepare(
      'INSERT INTO rate_buckets (key, tokens, updated_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_ms = excluded.updated_ms',
    ),
    deliveryInsert: db.prepare(
      'INSERT INTO webhook_deliveries (id, job_id, state, next_attempt_ms, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ),
    deliveriesDue: db.prepare(
      "SELECT doc FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms LIMIT ?",
    ),
    deliveryGet: db.prepare('SELECT doc, next_attempt_ms FROM webhook_deliveries WHERE id = ?'),
    deliveryPut: db.prepare('UPDATE webhook_deliveries SET state = ?, next_attempt_ms = ?, doc = ? WHERE id = ?'),
    deliveriesOfJob: db.prepare('SELECT doc FROM webhook_deliveries WHERE job_id = ? ORDER BY rowid'),
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
      this.checkLimits(job, options.check);
      const { changes } = this.sql.insert.run(
        job.id,
        job.tenantId,
        job.model,
        job.status,
        job.attempts,
        job.updatedAt,
        Date.parse(job.createdAt),
        deadlineMs(job),
        job.lane,
        job.dispatchedAt ? 1 : 0,
        dispatchedMs(job),
        PRIORITY_RANK[job.priority],
        JSON.stringify(job),
      );
      if (changes === 0) throw new DuplicateJobError(job.id);
      if (job.cost) this.addUsage(job.tenantId, job.cost.day, job.cost.reserved);
      return { job, created: true };
    });
  }

  /** Inside the create transaction: the tenant's usage right now, against the caller's check. */
  private checkLimits(job: Job, check: CreateOptions['check']): void {
    if (!check) return;
    const usage = {
      activeJobs: (this.sql.countActive.get(job.tenantId) as { n: number }).n,
      budgetUsed: job.cost ? this.usage(job.tenantId, job.cost.day) : 0,
    };
    const hit = check(usage);
    if (hit) throw new LimitReachedError(hit, usage);
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

  async compareAndSet(id: string, expected: JobVersion, next: Job, effects: WriteEffects = {}): Promise<Job | undefined> {
    this.assertOpen();
    if (next.id !== id) throw new TypeError('compareAndSet cannot change a job id');
    const write = () =>
      this.sql.cas.run(
        next.status,
        next.attempts,
        next.updatedAt,
        deadlineMs(next),
        next.dispatchedAt ? 1 : 0,
        dispatchedMs(next),
        JSON.stringify(next),
        id,
        expected.status,
        expected.attempts,
        expected.updatedAt,
      ).changes > 0;
    if (!effects.usage && !effects.webhook) return write() ? next : undefined;
    const applied = immediate(this.db, () => {
      if (!write()) return false;
      if (effects.usage) this.addUsage(effects.usage.tenantId, effects.usage.day, effects.usage.delta);
      if (effects.webhook) this.insertDelivery(effects.webhook);
      return true;
    });
    return applied ? next : undefined;
  }

  async deleteJob(id: string, expected: JobVersion): Promise<boolean> {
    this.assertOpen();
    return immediate(this.db, () => {
      if (this.sql.deleteJob.run(id, expected.status, expected.attempts, expected.updatedAt).changes === 0) return false;
      this.sql.deleteDeliveries.run(id);
      return true;
    });
  }

  async findDue(query: DueQuery): Promise<Job[]> {
    this.assertOpen();
    const where = new Where().and('status = ?', query.status);
    if (query.deadlineBefore) where.and('deadline_ms IS NOT NULL AND deadline_ms < ?', query.deadlineBefore.getTime());
    if (query.updatedBefore) where.and('updated_at < ?', query.updatedBefore.toISOString());
    if (query.updatedAfter) where.and('updated_at > ?', query.updatedAfter.toISOString());
    if (query.neverStarted) where.and('attempts = 0');
    if (query.dispatched !== undefined) where.and('dispatched = ?', query.dispatched ? 1 : 0);
    const sql = `SELECT doc FROM jobs WHERE ${where.sql} ORDER BY deadline_ms, updated_at LIMIT ?`;
    const rows = this.db.prepare(sql).all(...where.params, Math.max(1, Math.trunc(query.limit))) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as Job);
  }

  async countActive(tenantId: string): Promise<number> {
    this.assertOpen();
    return (this.sql.countActive.get(tenantId) as { n: number }).n;
  }

  /** Inside a transaction: adds to the day's usage, never below zero. */
  private addUsage(tenantId: string, day: string, delta: number): void {
    if (!Number.isFinite(delta)) throw new RangeError('a usage change must be a finite number');
    this.sql.usagePut.run(tenantId, day, Math.max(0, this.usage(tenantId, day) + delta));
  }

  private usage(tenantId: string, day: string): number {
    return (this.sql.usageGet.get(tenantId, day) as { amount: number } | undefined)?.amount ?? 0;
  }

  async getUsage(tenantId: string, day: string): Promise<number> {
    this.assertOpen();
    return this.usage(tenantId, day);
  }

  async laneLoad(lane: string): Promise<LaneLoad> {
    this.assertOpen();
    const rows = this.sql.laneLoad.all(lane) as { tenant_id: string; held: number; dispatched: number; running: number }[];
    const load = laneLoadOf(rows.map((r) => ({ ...r, tenantId: r.tenant_id })));
    for (const tenant of load.heldTenants) {
      const t = (this.sql.lastDispatch.get(lane, tenant) as { t: number | null }).t;
      if (t !== null) load.lastDispatchByTenant[tenant] = t;
    }
    return load;
  }

  async heldJobs(lane: string, tenantIds: readonly string[], perTenant: number): Promise<Job[]> {
    this.assertOpen();
    const limit = Math.max(1, Math.trunc(perTenant));
    return tenantIds.flatMap((t) => (this.sql.heldJobs.all(lane, t, limit) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Job));
  }

  async takeToken(key: string, params: BucketParams, now: Date, count = 1): Promise<TakeResult> {
    this.assertOpen();
    return immediate(this.db, () => {
      const row = this.sql.bucketGet.get(key) as { tokens: number; updated_ms: number } | undefined;
      const r = takeToken(row && { tokens: row.tokens, updatedMs: row.updated_ms }, params, now.getTime(), count);
      this.sql.bucketPut.run(key, r.state.tokens, r.state.updatedMs);
      return r;
    });
  }

  async pruneIdempotencyKeys(now: Date): Promise<number> {
    this.assertOpen();
    return Number(this.sql.keyPrune.run(now.getTime()).changes);
  }

  private insertDelivery(d: NewWebhookDelivery): void {
    const delivery: WebhookDelivery = { ...d, state: 'pending', attempts: 0, nextAttemptAt: d.createdAt, history: [] };
    this.sql.deliveryInsert.run(d.id, d.jobId, 'pending', Date.parse(d.createdAt), JSON.stringify(delivery));
  }

  async claimWebhookDeliveries(now: Date, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    this.assertOpen();
    return immediate(this.db, () => {
      const due = (this.sql.deliveriesDue.all(now.getTime(), Math.max(1, Math.trunc(limit))) as { doc: string }[]).map(
        (r) => JSON.parse(r.doc) as WebhookDelivery,
      );
      const lease = new Date(now.getTime() + leaseMs).toISOString();
      return due.map((d) => {
        const claimed = { ...d, nextAttemptAt: lease };
        this.sql.deliveryPut.run('pending', Date.parse(lease), JSON.stringify(claimed), d.id);
        return { ...claimed, lease };
      });
    });
  }

  async recordWebhookAttempt(id: string, lease: string, attempt: WebhookAttempt, outcome: DeliveryOutcome): Promise<boolean> {
    this.assertOpen();
    return immediate(this.db, () => {
      const row = this.sql.deliveryGet.get(id) as { doc: string; next_attempt_ms: number } | undefined;
      if (!row) return false;
      const d = JSON.parse(row.doc) as WebhookDelivery;
      if (d.state !== 'pending' || d.nextAttemptAt !== lease) return false;
      const next: WebhookDelivery = {
        ...d,
        state: outcome.state,
        attempts: d.attempts + 1,
        history: [...d.history, attempt],
        nextAttemptAt: outcome.state === 'pending' ? outcome.nextAttemptAt.toISOString() : attempt.at,
      };
      this.sql.deliveryPut.run(next.state, Date.parse(next.nextAttemptAt), JSON.stringify(next), id);
      return true;
    });
  }

  async listWebhookDeliveries(jobId: string): Promise<WebhookDelivery[]> {
    this.assertOpen();
    return (this.sql.deliveriesOfJob.all(jobId) as { doc: string }[]).map((r) => JSON.parse(r.doc) as WebhookDelivery);
  }

  /** One per store object: waits share one reader of the change log (see JobChangeWatcher). */
  private watcher: JobChangeWatcher | undefined;
  private changeReads = 0;

  async waitForJobChange(
    id: string,
    sinceUpdatedAt: string,
    timeoutMs: number,
    options: { tenantId?: string; signal?: AbortSignal } = {},
  ): Promise<Job | undefined> {
    this.assertOpen();
    if (!this.watcher) {
      this.signal ??= new ChangeSignal(this.path); // watched only by processes that wait
      const changes = this.signal;
      let seen = changes.version;
      this.watcher = new JobChangeWatcher(
        {
          // the signal's count before each read: a commit that lands after the read ends the next sleep at once
          jobChanges: async (cursor) => {
            seen = changes.version;
            return this.jobChanges(cursor);
          },
          nextChange: (maxMs, signal) => changes.wait(maxMs, signal, seen),
        },
        (jobId, tenantId) => this.get(jobId, tenantId),
      );
    }
    return this.watcher.waitForJobChange(id, sinceUpdatedAt, timeoutMs, options);
  }

  /** The ids of jobs written since a change-log position (see the job_changes table), and the next position. */
  private jobChanges(cursor?: string): { cursor: string; jobIds: string[]; reset?: boolean } {
    this.assertOpen();
    const { lo, hi } = this.sql.changesBounds.get() as { lo: number; hi: number };
    // now and then, the oldest part of the log goes (a watcher that far behind is told to reset)
    if (++this.changeReads % 1_000 === 0 && hi - lo > CHANGE_LOG_KEPT) this.sql.changesPrune.run(hi - CHANGE_LOG_KEPT);
    if (cursor === undefined) return { cursor: String(hi), jobIds: [] };
    const from = Number(cursor);
    if (lo > 0 && from < lo - 1) return { cursor: String(hi), jobIds: [], reset: true };
    const rows = this.sql.changesSince.all(from, CHANGES_PER_READ) as { seq: number; job_id: string }[];
    return { cursor: String(rows.at(-1)?.seq ?? from), jobIds: rows.map((r) => r.job_id) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
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

function dispatchedMs(job: Job): number | null {
  return job.dispatchedAt === undefined ? null : Date.parse(job.dispatchedAt);
}

function deadlineMs(job: Job): number | null {
  return job.deadlineAt === undefined ? null : Date.parse(job.deadlineAt);
}
