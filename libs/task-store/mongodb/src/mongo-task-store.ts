import { MongoClient, type ClientSession, type Collection, type Db, type MongoClientOptions } from 'mongodb';
import { takeToken, type BucketParams, type TakeResult } from '@gpu-jobs/admission';
import type { Job, JobStatus, JobVersion, NewWebhookDelivery, WebhookAttempt, WebhookDelivery, WriteEffects } from '@gpu-jobs/job-contract';
import {
  DuplicateJobError,
  IdempotencyConflictError,
  LimitReachedError,
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
import {
  DUE_SORT,
  HELD_SORT,
  LIST_SORT,
  casFilter,
  casUpdate,
  dueFilter,
  isDuplicateKey,
  laneLoadPipeline,
  listFilter,
  toJobDocument,
  usageId,
  usageUpdate,
  type BucketDocument,
  type DeliveryDocument,
  type IdempotencyDocument,
  type JobDocument,
  type UsageDocument,
} from './documents';

export interface MongoTaskStoreOptions {
  uri: string;
  database: string;
  /** Prefix of the collection names (several deployments can share a database). */
  collectionPrefix?: string;
  /** Finished jobs' documents are removed by a TTL index this long after they finish (plus a day's margin behind the sweeper). */
  retentionMs?: number;
  maxPoolSize?: number;
  /** Server selection, connect and socket timeouts. */
  timeoutMs?: number;
  /** How often waitForJobChange looks again, at most. */
  pollMs?: number;
}

const ACTIVE: JobStatus[] = ['queued', 'running'];
/** How far the job watcher looks back beyond its cursor, for writers whose clocks run behind. */
const CLOCK_SKEW_MS = 2_000;

/**
 * The task store on MongoDB (driver 7; also Azure Cosmos DB for MongoDB vCore, see README). Every transition
 * is one findOneAndUpdate whose filter holds the version the writer read (status, attempts, updatedAt), the
 * same compare-and-set as the embedded store. Writes with side effects (a create that reserves budget under
 * limits, a transition that settles usage or records a webhook delivery) run in a transaction, so the job
 * and its effects change together or not at all; that needs a replica set (Atlas, Cosmos vCore and any
 * production deployment have one).
 */
export class MongoTaskStore implements TaskStore {
  private readonly jobs: Collection<JobDocument>;
  private readonly keys: Collection<IdempotencyDocument>;
  private readonly usage: Collection<UsageDocument>;
  private readonly buckets: Collection<BucketDocument>;
  private readonly deliveries: Collection<DeliveryDocument>;
  private readonly retentionMs: number;
  private readonly pollMs: number;
  private closed = false;

  private constructor(
    private readonly client: MongoClient,
    db: Db,
    options: MongoTaskStoreOptions,
  ) {
    const p = options.collectionPrefix ?? '';
    this.jobs = db.collection<JobDocument>(`${p}jobs`);
    this.keys = db.collection<IdempotencyDocument>(`${p}idempotency_keys`);
    this.usage = db.collection<UsageDocument>(`${p}usage`);
    this.buckets = db.collection<BucketDocument>(`${p}rate_buckets`);
    this.deliveries = db.collection<DeliveryDocument>(`${p}webhook_deliveries`);
    this.retentionMs = (options.retentionMs ?? 7 * 86_400_000) + 86_400_000;
    this.pollMs = options.pollMs ?? 250;
  }

  static async open(options: MongoTaskStoreOptions): Promise<MongoTaskStore> {
    const clientOptions: MongoClientOptions = {
      maxPoolSize: options.maxPoolSize ?? 20,
      serverSelectionTimeoutMS: options.timeoutMs ?? 10_000,
      connectTimeoutMS: options.timeoutMs ?? 10_000,
      socketTimeoutMS: Math.max(options.timeoutMs ?? 10_000, 60_000),
      appName: 'gpu-jobs',
    };
    const client = await new MongoClient(options.uri, clientOptions).connect();
    const store = new MongoTaskStore(client, client.db(options.database), options);
    await store.ensureIndexes();
    return store;
  }

  /** Created at start-up; creating an index that exists is a no-op. */
  private async ensureIndexes(): Promise<void> {
    await this.jobs.createIndexes([
      { key: { tenantId: 1, createdAt: -1, _id: -1 }, name: 'tenant_newest' },
      { key: { tenantId: 1, status: 1, createdAt: -1, _id: -1 }, name: 'tenant_status_newest' },
      { key: { status: 1, deadlineAt: 1, updatedAt: 1 }, name: 'sweeps' },
      // the job watcher's one query per poll: what changed since a time
      { key: { updatedAt: 1 }, name: 'changes' },
      { key: { lane: 1, status: 1, dispatched: 1, tenantId: 1, priorityRank: 1, createdAt: 1, _id: 1 }, name: 'dispatch' },
      { key: { lane: 1, tenantId: 1, dispatchedAt: -1 }, name: 'last_dispatch' },
      { key: { purgeAt: 1 }, name: 'retention', expireAfterSeconds: 0 },
    ]);
    await this.keys.createIndexes([
      {
        key: { tenantId: 1, key: 1 },
        name: 'one_key_per_tenant',
        unique: true,
        partialFilterExpression: { key: { $exists: true } },
      },
      { key: { expiresAt: 1 }, name: 'key_expiry', expireAfterSeconds: 0 },
    ]);
    await this.deliveries.createIndexes([
      { key: { state: 1, nextAttemptAt: 1 }, name: 'due' },
      { key: { jobId: 1 }, name: 'by_job' },
    ]);
  }

  private transaction<T>(fn: (session: ClientSession) => Promise<T>): Promise<T> {
    return this.client.withSession((session) => session.withTransaction(() => fn(session)));
  }

  async create(job: Job, options: CreateOptions = {}): Promise<CreateResult> {
    this.assertOpen();
    if (job.idempotencyKey !== undefined && !options.idempotency) {
      throw new TypeError('a job with an idempotencyKey needs options.idempotency');
    }
    const simple = job.idempotencyKey === undefined && !options.check && !job.cost;
    if (simple) {
      try {
        await this.jobs.insertOne(toJobDocument(job, this.retentionMs));
      } catch (err) {
        if (isDuplicateKey(err)) throw new DuplicateJobError(job.id);
        throw err;
      }
      return { job, created: true };
    }
    return this.transaction(async (session) => {
      if (job.idempotencyKey !== undefined && options.idempotency) {
        const found = await this.keys.findOne({ tenantId: job.tenantId, key: job.idempotencyKey }, { session });
        if (found && found.expiresAt.getTime() > Date.now()) {
          if (found.requestHash !== options.idempotency.requestHash) throw new IdempotencyConflictError(found.jobId);
          const existing = await this.jobs.findOne({ _id: found.jobId }, { session });
          if (existing) return { job: existing.job, created: false };
        }
        await this.keys.replaceOne(
          { tenantId: job.tenantId, key: job.idempotencyKey },
          {
            tenantId: job.tenantId,
            key: job.idempotencyKey,
            jobId: job.id,
            requestHash: options.idempotency.requestHash,
            expiresAt: options.idempotency.expiresAt,
          },
          { upsert: true, session },
        );
      }
      if (options.check) {
        const usage = {
          activeJobs: await this.jobs.countDocuments({ tenantId: job.tenantId, status: { $in: ACTIVE } }, { session }),
          budgetUsed: job.cost ? await this.usageOf(job.tenantId, job.cost.day, session) : 0,
        };
        const hit = options.check(usage);
        if (hit) throw new LimitReachedError(hit, usage);
      }
      try {
        await this.jobs.insertOne(toJobDocument(job, this.retentionMs), { session });
      } catch (err) {
        if (isDuplicateKey(err)) throw new DuplicateJobError(job.id);
        throw err;
      }
      if (job.cost) await this.addUsage(job.tenantId, job.cost.day, job.cost.reserved, session);
      return { job, created: true };
    });
  }

  async get(id: string, tenantId?: string): Promise<Job | undefined> {
    this.assertOpen();
    const doc = await this.jobs.findOne(tenantId === undefined ? { _id: id } : { _id: id, tenantId }, { projection: { job: 1 } });
    return doc?.job;
  }

  async list(query: ListJobsQuery): Promise<JobPage> {
    this.assertOpen();
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), 100);
    const docs = await this.jobs
      .find(listFilter(query), { projection: { job: 1 } })
      .sort(LIST_SORT)
      .limit(limit + 1)
      .toArray();
    const items = docs.slice(0, limit).map((d) => d.job);
    const last = items.at(-1);
    return docs.length > limit && last
      ? { items, nextCursor: encodeCursor({ createdAt: Date.parse(last.createdAt), id: last.id }) }
      : { items };
  }

  async compareAndSet(id: string, expected: JobVersion, next: Job, effects: WriteEffects = {}): Promise<Job | undefined> {
    this.assertOpen();
    if (next.id !== id) throw new TypeError('compareAndSet cannot change a job id');
    const write = async (session?: ClientSession) =>
      (await this.jobs.findOneAndUpdate(casFilter(id, expected), casUpdate(next, this.retentionMs), {
        returnDocument: 'after',
        projection: { _id: 1 },
        ...(session ? { session } : {}),
      })) !== null;
    if (!effects.usage && !effects.webhook) return (await write()) ? next : undefined;
    const applied = await this.transaction(async (session) => {
      if (!(await write(session))) return false;
      if (effects.usage) await this.addUsage(effects.usage.tenantId, effects.usage.day, effects.usage.delta, session);
      if (effects.webhook) await this.insertDelivery(effects.webhook, session);
      return true;
    });
    return applied ? next : undefined;
  }

  async deleteJob(id: string, expected: JobVersion): Promise<boolean> {
    this.assertOpen();
    return this.transaction(async (session) => {
      if ((await this.jobs.deleteOne(casFilter(id, expected), { session })).deletedCount === 0) return false;
      await this.deliveries.deleteMany({ jobId: id }, { session });
      return true;
    });
  }

  async findDue(query: DueQuery): Promise<Job[]> {
    this.assertOpen();
    const docs = await this.jobs
      .find(dueFilter(query), { projection: { job: 1 } })
      .sort(DUE_SORT)
      .limit(Math.max(1, Math.trunc(query.limit)))
      .toArray();
    return docs.map((d) => d.job);
  }

  async countActive(tenantId: string): Promise<number> {
    this.assertOpen();
    return this.jobs.countDocuments({ tenantId, status: { $in: ACTIVE } });
  }

  private async usageOf(tenantId: string, day: string, session?: ClientSession): Promise<number> {
    const doc = await this.usage.findOne({ _id: usageId(tenantId, day) }, session ? { session } : {});
    return doc?.amount ?? 0;
  }

  private async addUsage(tenantId: string, day: string, delta: number, session: ClientSession): Promise<void> {
    if (!Number.isFinite(delta)) throw new RangeError('a usage change must be a finite number');
    await this.usage.updateOne({ _id: usageId(tenantId, day) }, usageUpdate(tenantId, day, delta), { upsert: true, session });
  }

  async getUsage(tenantId: string, day: string): Promise<number> {
    this.assertOpen();
    return this.usageOf(tenantId, day);
  }

  async laneLoad(lane: string): Promise<LaneLoad> {
    this.assertOpen();
    const rows = await this.jobs
      .aggregate<{ _id: string; held: number; dispatched: number; running: number }>(laneLoadPipeline(lane))
      .toArray();
    const load = laneLoadOf(rows.map((r) => ({ ...r, tenantId: r._id })));
    for (const tenantId of load.heldTenants) {
      const last = await this.jobs.findOne(
        { lane, tenantId, dispatchedAt: { $exists: true } },
        { sort: { dispatchedAt: -1 }, projection: { dispatchedAt: 1 } },
      );
      if (last?.dispatchedAt) load.lastDispatchByTenant[tenantId] = last.dispatchedAt.getTime();
    }
    return load;
  }

  async heldJobs(lane: string, tenantIds: readonly string[], perTenant: number): Promise<Job[]> {
    this.assertOpen();
    const limit = Math.max(1, Math.trunc(perTenant));
    const pages = await Promise.all(
      tenantIds.map((tenantId) =>
        this.jobs
          .find({ lane, status: 'queued', dispatched: 0, tenantId }, { projection: { job: 1 } })
          .sort(HELD_SORT)
          .limit(limit)
          .toArray(),
      ),
    );
    return pages.flat().map((d) => d.job);
  }

  /** Read, compute with the pure bucket, write back only if nobody else wrote in between; a few tries. */
  async takeToken(key: string, params: BucketParams, now: Date, count = 1): Promise<TakeResult> {
    this.assertOpen();
    for (let attempt = 0; ; attempt++) {
      const doc = await this.buckets.findOne({ _id: key });
      const r = takeToken(doc ? { tokens: doc.tokens, updatedMs: doc.updatedMs } : undefined, params, now.getTime(), count);
      try {
        const written = doc
          ? await this.buckets.updateOne({ _id: key, tokens: doc.tokens, updatedMs: doc.updatedMs }, { $set: r.state })
          : await this.buckets.insertOne({ _id: key, ...r.state });
        if ('insertedId' in written || written.modifiedCount === 1 || written.matchedCount === 1) return r;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      if (attempt >= 10) return { ...r, allowed: false, granted: 0, retryAfterMs: 100 }; // heavy contention: fail closed
    }
  }

  async pruneIdempotencyKeys(now: Date): Promise<number> {
    this.assertOpen();
    return (await this.keys.deleteMany({ expiresAt: { $lte: now } })).deletedCount;
  }

  private async insertDelivery(d: NewWebhookDelivery, session: ClientSession): Promise<void> {
    const delivery: WebhookDelivery = { ...d, state: 'pending', attempts: 0, nextAttemptAt: d.createdAt, history: [] };
    try {
      await this.deliveries.insertOne(
        { _id: d.id, jobId: d.jobId, state: 'pending', nextAttemptAt: new Date(d.createdAt), delivery },
        { session },
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // recorded already: the transition happened once
    }
  }

  async claimWebhookDeliveries(now: Date, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    this.assertOpen();
    const lease = new Date(now.getTime() + leaseMs);
    const claimed: ClaimedDelivery[] = [];
    while (claimed.length < limit) {
      const doc = await this.deliveries.findOneAndUpdate(
        { state: 'pending', nextAttemptAt: { $lte: now } },
        { $set: { nextAttemptAt: lease, 'delivery.nextAttemptAt': lease.toISOString() } },
        { sort: { nextAttemptAt: 1 }, returnDocument: 'after' },
      );
      if (!doc) break;
      claimed.push({ ...doc.delivery, lease: lease.toISOString() });
    }
    return claimed;
  }

  async recordWebhookAttempt(id: string, lease: string, attempt: WebhookAttempt, outcome: DeliveryOutcome): Promise<boolean> {
    this.assertOpen();
    const next = outcome.state === 'pending' ? outcome.nextAttemptAt : new Date(attempt.at);
    const r = await this.deliveries.updateOne(
      { _id: id, state: 'pending', 'delivery.nextAttemptAt': lease },
      {
        $set: { state: outcome.state, nextAttemptAt: next, 'delivery.state': outcome.state, 'delivery.nextAttemptAt': next.toISOString() },
        $inc: { 'delivery.attempts': 1 },
        $push: { 'delivery.history': attempt },
      },
    );
    return r.modifiedCount === 1;
  }

  async listWebhookDeliveries(jobId: string): Promise<WebhookDelivery[]> {
    this.assertOpen();
    const docs = await this.deliveries.find({ jobId }).sort({ 'delivery.createdAt': 1, _id: 1 }).toArray();
    return docs.map((d) => d.delivery);
  }

  /**
   * One per store object: waits share one poll of what changed (every pollMs, by the `changes` index), so an open
   * wait costs nothing while its job does not change. Portable to every MongoDB-compatible service; a change
   * stream would need more of the server.
   */
  private watcher: JobChangeWatcher | undefined;

  async waitForJobChange(
    id: string,
    sinceUpdatedAt: string,
    timeoutMs: number,
    options: { tenantId?: string; signal?: AbortSignal } = {},
  ): Promise<Job | undefined> {
    this.assertOpen();
    this.watcher ??= new JobChangeWatcher(
      {
        jobChanges: (cursor) => this.jobChanges(cursor),
        nextChange: (maxMs, signal) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(maxMs, this.pollMs));
            signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
          }),
      },
      (jobId, tenantId) => this.get(jobId, tenantId),
    );
    return this.watcher.waitForJobChange(id, sinceUpdatedAt, timeoutMs, options);
  }

  /**
   * The jobs written since a time (the cursor), by the `changes` index. Writers' clocks differ, so each poll looks
   * a little further back than the cursor; a job reported twice only makes its waiters read it once more.
   */
  private async jobChanges(cursor?: string): Promise<{ cursor: string; jobIds: string[] }> {
    if (cursor === undefined) return { cursor: new Date().toISOString(), jobIds: [] };
    const since = new Date(Date.parse(cursor) - CLOCK_SKEW_MS).toISOString();
    const docs = await this.jobs
      .find({ updatedAt: { $gt: since } }, { projection: { _id: 1, updatedAt: 1 } })
      .sort({ updatedAt: 1 })
      .limit(10_000)
      .toArray();
    const last = docs.at(-1)?.updatedAt;
    return { cursor: last && last > cursor ? last : cursor, jobIds: docs.map((d) => d._id) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    await this.client.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the task store is closed');
  }
}
