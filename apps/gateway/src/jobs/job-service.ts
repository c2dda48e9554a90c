import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import {
  ImageInput,
  TRACEPARENT_PATTERN,
  TensorInput,
  TextInput,
  fieldErrors,
  tensorMismatch,
  isTerminal,
  type Job,
  type SubmitJobRequest,
} from '@gpu-jobs/job-contract';
import { budgetDay, estimatedCost, rejection, requestLimitHit, usageLimitHit, type SubmitRequest, type Tenant } from '@gpu-jobs/admission';
import { dispatchJob, type FairDispatcher, type Ports } from '@gpu-jobs/platform';
import type { ModelIndex, ResolvedModel } from '@gpu-jobs/runners';
import { IdempotencyConflictError, InvalidCursorError, LimitReachedError, applyEvent, type JobPage } from '@gpu-jobs/task-store';
import type { PlatformMetrics } from '@gpu-jobs/telemetry';
import { refusedUrl, type UrlPolicy } from '@gpu-jobs/webhooks';
import { ProblemError } from '../problem-error';

export const INPUT_SCHEMAS = { image: ImageInput, text: TextInput, tensor: TensorInput } as const;
const TRACEPARENT = new RegExp(TRACEPARENT_PATTERN);

/**
 * Strict base64: Node's decoder skips characters outside the alphabet, so a decoded length short of
 * what the text's length implies means the text was not base64. (Cheaper than a regex over megabytes.)
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 === 1) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === Math.floor((text.length * 3) / 4) - padding ? bytes : undefined;
}

export interface SubmitResult {
  job: Job;
  created: boolean;
}

export interface JobServiceDeps {
  ports: Ports;
  models: ModelIndex;
  metrics: PlatformMetrics;
  dispatcher: FairDispatcher;
  idempotencyTtlMs: number;
  webhookPolicy: UrlPolicy;
  /** How long a direct download link to a large result stays valid. */
  resultLinkSeconds: number;
  /** Open long-polls and event streams allowed per tenant, and in this process (beyond: 429, 503). */
  waits?: { perTenant: number; total: number };
}

/** Counts open long-polls and event streams, and refuses one beyond the tenant's or the process's cap. */
export class WaitCaps {
  private readonly byTenant = new Map<string, number>();
  private total = 0;
  constructor(private readonly caps: { perTenant: number; total: number }) {}

  /** Takes a place, or throws the problem that says why not; the caller releases it when the wait ends. */
  acquire(tenantId: string): () => void {
    const mine = this.byTenant.get(tenantId) ?? 0;
    if (mine >= this.caps.perTenant)
      throw new ProblemError('too_many_waits', `at most ${this.caps.perTenant} open waits and event streams per tenant`, {
        retryAfterSeconds: 5,
      });
    if (this.total >= this.caps.total)
      throw new ProblemError('not_ready', 'this gateway holds as many open waits as it can; retry later', { retryAfterSeconds: 5 });
    this.byTenant.set(tenantId, mine + 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const n = (this.byTenant.get(tenantId) ?? 1) - 1;
      if (n === 0) this.byTenant.delete(tenantId);
      else this.byTenant.set(tenantId, n);
    };
  }

  get open(): number {
    return this.total;
  }
}

/** The gateway's job operations, apart from HTTP. Every read and write is scoped to the caller's tenant. */
export class JobService {
  private readonly ports: Ports;
  private readonly models: ModelIndex;
  private readonly metrics: PlatformMetrics;

  readonly waits: WaitCaps;

  constructor(private readonly deps: JobServiceDeps) {
    this.waits = new WaitCaps(deps.waits ?? { perTenant: 1_000, total: 20_000 });
    this.ports = deps.ports;
    this.models = deps.models;
    this.metrics = deps.metrics;
  }

  /**
   * Admits, stores the input, then the job, then sends the message (or leaves the job held for the fair
   * dispatcher). Every limit is checked before anything is stored; the usage limits (concurrency, budget)
   * inside the write that creates the job. A crash after the job is stored and before its message is sent is
   * repaired by redispatchStranded, so a job the client was told about is always queued.
   */
  async submit(tenant: Tenant, request: SubmitJobRequest, idempotencyKey?: string, traceparent?: string): Promise<SubmitResult> {
    const model = this.models.get(request.model);
    if (!model) throw new ProblemError('model_unknown', `no model named ${request.model}; GET /v1/models lists them`);
    const now = new Date();
    const tenantId = tenant.id;
    const admission: SubmitRequest = { model: model.id, inputBytes: 0, cost: estimatedCost(model), at: now };
    if (requestLimitHit(admission, tenant.limits) === 'model') this.refuse('model', tenant, admission);
    const input = this.encodeInput(model, request.input as Record<string, unknown>);
    admission.inputBytes = input.bytes.length;
    if (requestLimitHit(admission, tenant.limits)) this.refuse('inputSize', tenant, admission);
    if (request.webhook) {
      const why = refusedUrl(request.webhook.url, this.deps.webhookPolicy);
      if (why) throw new ProblemError('webhook_url_refused', `webhook.url: ${why}`, { errors: [{ path: '/webhook/url', message: why }] });
    }
    const lane = this.models.lane(model.lane);
    const load = await this.deps.dispatcher.load(model.lane);
    if (load.held + load.dispatched >= lane.maxBacklog) {
      this.metrics.admissionRejects.inc({ reason: 'queue_full' });
      throw new ProblemError('queue_full', `lane ${model.lane} has ${lane.maxBacklog} jobs waiting; retry later`, { retryAfterSeconds: 5 });
    }

    const id = uuidv7();
    const job: Job = {
      id,
      tenantId,
      model: model.id,
      lane: model.lane,
      status: 'queued',
      priority: request.priority ?? 'normal',
      attempts: 0,
      maxAttempts: model.limits.maxAttempts,
      inputRef: `inputs/${tenantId}/${id}`,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    if (request.deadlineSeconds) job.deadlineAt = new Date(now.getTime() + request.deadlineSeconds * 1000).toISOString();
    if (request.metadata) job.metadata = request.metadata;
    if (request.webhook) job.webhook = request.webhook;
    if (idempotencyKey) job.idempotencyKey = idempotencyKey;
    // kept with the job, so a job the fair dispatcher releases later still carries its trace; a malformed
    // header is dropped, never passed on (the worker would refuse the message)
    if (traceparent && TRACEPARENT.test(traceparent)) job.traceparent = traceparent;
    if (admission.cost > 0) job.cost = { day: budgetDay(now), reserved: admission.cost };
    // straight to the queue when the lane has room and nobody waits; otherwise held for the fair dispatcher
    const direct = this.deps.dispatcher.admitDirect(model.lane);
    if (direct) job.dispatchedAt = now.toISOString();

    let created: SubmitResult;
    try {
      await this.ports.blobs.put(job.inputRef, input.bytes, { contentType: input.contentType, maxBytes: model.input.maxBytes });
      created = await this.ports.store.create(job, {
        check: (usage) => usageLimitHit(admission, tenant.limits, usage),
        ...(idempotencyKey
          ? { idempotency: { requestHash: requestHash(request), expiresAt: new Date(now.getTime() + this.deps.idempotencyTtlMs) } }
          : {}),
      });
    } catch (err) {
      await this.ports.blobs.delete(job.inputRef).catch(() => undefined);
      if (err instanceof IdempotencyConflictError)
        throw new ProblemError('idempotency_conflict', 'this Idempotency-Key was used with a different request body');
      if (err instanceof LimitReachedError) this.refuse(err.limit, tenant, admission, err.usage);
      throw err;
    } finally {
      if (direct) this.deps.dispatcher.settled(model.lane);
    }
    if (!created.created) {
      await this.ports.blobs.delete(job.inputRef).catch(() => undefined);
      return created;
    }
    if (direct) await dispatchJob(this.ports.queue, job);
    else this.deps.dispatcher.request(model.lane, 'held');
    this.metrics.jobsByStatus.inc({ model: job.model, status: 'queued' });
    return created;
  }

  private refuse(
    limit: Parameters<typeof rejection>[0],
    tenant: Tenant,
    request: SubmitRequest,
    usage = { activeJobs: 0, budgetUsed: 0 },
  ): never {
    const r = rejection(limit, tenant.limits, usage, request);
    this.metrics.admissionRejects.inc({ reason: r.code });
    throw new ProblemError(r.code, r.detail, r.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: r.retryAfterSeconds });
  }

  async get(tenantId: string, id: string): Promise<Job> {
    const job = await this.ports.store.get(id, tenantId);
    if (!job) throw new ProblemError('job_not_found', `no job ${id}`);
    return job;
  }

  /** Long-poll: returns as soon as the job is terminal, or after waitSeconds with its state then. */
  async waitForTerminal(tenantId: string, id: string, waitSeconds: number, signal?: AbortSignal): Promise<Job> {
    const deadline = Date.now() + waitSeconds * 1000;
    let job = await this.get(tenantId, id);
    if (isTerminal(job.status) || waitSeconds <= 0) return job;
    const release = this.waits.acquire(tenantId);
    try {
      while (!isTerminal(job.status) && Date.now() < deadline && !signal?.aborted) {
        const next = await this.ports.store.waitForJobChange(id, job.updatedAt, deadline - Date.now(), {
          tenantId,
          ...(signal ? { signal } : {}),
        });
        if (!next) throw new ProblemError('job_not_found', `no job ${id}`);
        job = next;
      }
      return job;
    } finally {
      release();
    }
  }

  /**
   * The job's versions from the one after `lastEventId` on: the current state at once when it is newer than
   * what the client saw, then each change, ending after a terminal state. A version's id is its updatedAt in
   * epoch milliseconds (every write moves it forward), so a reconnect with Last-Event-ID resumes exactly:
   * nothing the client saw is sent again, and the latest state is never missed (intermediate progress
   * reports written while it was away are folded into the current state).
   */
  async *versions(tenantId: string, id: string, lastEventId: string | null, signal: AbortSignal): AsyncGenerator<{ id: string; job: Job }> {
    let job = await this.get(tenantId, id);
    const seen = lastEventId !== null && /^\d+$/.test(lastEventId) ? Number(lastEventId) : -1;
    for (;;) {
      const version = Date.parse(job.updatedAt);
      if (version > seen) yield { id: String(version), job };
      if (isTerminal(job.status) || signal.aborted) return;
      const next = await this.ports.store.waitForJobChange(id, job.updatedAt, 30_000, { tenantId, signal });
      if (!next) return;
      job = next;
    }
  }

  async webhookDeliveries(tenantId: string, id: string) {
    await this.get(tenantId, id);
    return this.ports.store.listWebhookDeliveries(id);
  }

  async list(tenantId: string, query: { status?: Job['status']; model?: string; limit: number; cursor?: string }): Promise<JobPage> {
    try {
      return await this.ports.store.list({ tenantId, ...query });
    } catch (err) {
      if (err instanceof InvalidCursorError)
        throw new ProblemError('validation_failed', 'the cursor is not one this API returned', {
          errors: [{ path: '/cursor', message: 'unknown cursor' }],
        });
      throw err;
    }
  }

  /** Queued: cancelled at once. Running: recorded, and the worker stops between stages. */
  async cancel(tenantId: string, id: string): Promise<Job> {
    const r = await applyEvent(this.ports.store, id, { type: 'cancel', at: new Date() }, { tenantId });
    if (r.ok) {
      if (r.job.status === 'cancelled') {
        this.metrics.jobsByStatus.inc({ model: r.job.model, status: 'cancelled' });
        this.deps.dispatcher.request(r.job.lane, 'freed'); // a dispatched job's place in the window is free again
      }
      return r.job;
    }
    if (r.reason === 'not_found') throw new ProblemError('job_not_found', `no job ${id}`);
    throw new ProblemError('job_already_finished', `the job is already ${r.job.status}`);
  }

  /** A large result: a short-lived direct link when the blob store gives one (Azure: a read-only SAS), else the stream. */
  async result(tenantId: string, id: string) {
    const job = await this.get(tenantId, id);
    if (!job.resultRef) throw new ProblemError('not_found', 'this job has no stored result');
    const url = await this.ports.blobs.downloadUrl(job.resultRef, this.deps.resultLinkSeconds);
    if (url) return { url };
    return this.ports.blobs.get(job.resultRef);
  }

  private encodeInput(model: ResolvedModel, input: Record<string, unknown>): { bytes: Buffer; contentType: string } {
    const schema = INPUT_SCHEMAS[model.input.kind];
    const errors = fieldErrors(schema, input).map((e) => ({ path: `/input${e.path}`, message: e.message }));
    if (errors.length > 0) throw new ProblemError('validation_failed', `the input does not fit model ${model.id}`, { errors });
    if (model.input.kind === 'image') {
      const text = (input as ImageInput).image.replace(/^data:image\/[a-z]+;base64,/, '');
      const bytes = decodeBase64(text);
      if (!bytes) {
        throw new ProblemError('validation_failed', 'input.image is not base64', {
          errors: [{ path: '/input/image', message: 'must be base64' }],
        });
      }
      this.checkSize(model, bytes.length);
      const contentType = sniffImageType(bytes);
      // the documented formats, by their bytes: the decoder reads more (SVG, TIFF...) than the API promises
      if (!contentType) throw new ProblemError('unsupported_media_type', 'input.image must be a JPEG or PNG image');
      return { bytes, contentType };
    }
    if (model.input.kind === 'tensor' && model.input.tensors) {
      const why = tensorMismatch(input as TensorInput, model.input.tensors);
      if (why) throw new ProblemError('input_invalid', `${why} (GET /v1/models shows model ${model.id}'s inputs)`);
    }
    const bytes = Buffer.from(JSON.stringify(input));
    this.checkSize(model, bytes.length);
    return { bytes, contentType: 'application/json' };
  }

  private checkSize(model: ResolvedModel, size: number): void {
    if (size > model.input.maxBytes)
      throw new ProblemError(
        'payload_too_large',
        `model ${model.id} takes inputs of at most ${model.input.maxBytes} bytes; this one has ${size}`,
      );
  }
}

function sniffImageType(bytes: Buffer): 'image/png' | 'image/jpeg' | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

/** What an idempotency key protects: the request body, canonically serialised (key order does not matter). */
export function requestHash(request: SubmitJobRequest): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(request)))
    .digest('hex');
}
