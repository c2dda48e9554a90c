import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds buckets from 1 ms to 60 s: API calls at the low end, GPU inference at the high end. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The platform's metrics, one registry per process; every app uses the ones it needs. */
export class PlatformMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly jobsByStatus: Counter<'model' | 'status'>;
  readonly inferenceDuration: Histogram<'model'>;
  readonly modelLoadSeconds: Gauge<'model'>;
  readonly queueDepth: Gauge<'lane' | 'state'>;
  readonly oldestMessageAge: Gauge<'lane'>;
  readonly inFlightJobs: Gauge<'lane'>;
  readonly admissionRejects: Counter<'reason'>;
  readonly laneJobs: Gauge<'lane' | 'state'>;
  readonly webhookAttempts: Counter<'outcome'>;
  readonly sweptJobs: Counter<'action'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.jobsByStatus = new Counter({
      name: 'jobs_total',
      help: 'Job status changes recorded by this process',
      labelNames: ['model', 'status'],
      registers,
    });
    this.inferenceDuration = new Histogram({
      name: 'inference_duration_seconds',
      help: 'Model run time per job',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.modelLoadSeconds = new Gauge({
      name: 'model_load_seconds',
      help: 'Time to load and warm up a model',
      labelNames: ['model'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'queue_messages',
      help: 'Messages in a lane queue by state (active, locked, scheduled, dead_lettered)',
      labelNames: ['lane', 'state'],
      registers,
    });
    this.oldestMessageAge = new Gauge({
      name: 'queue_oldest_message_age_seconds',
      help: "Age of the oldest message waiting in a lane's queue",
      labelNames: ['lane'],
      registers,
    });
    this.inFlightJobs = new Gauge({ name: 'jobs_in_flight', help: 'Jobs this worker is running', labelNames: ['lane'], registers });
    this.admissionRejects = new Counter({
      name: 'admission_rejects_total',
      help: 'Requests refused before any work, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.laneJobs = new Gauge({
      name: 'lane_jobs',
      help: "Unfinished jobs of a lane: held (waiting for the fair dispatcher), dispatched (in the lane's queue), running",
      labelNames: ['lane', 'state'],
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome (delivered, retry, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.sweptJobs = new Counter({
      name: 'swept_jobs_total',
      help: 'Jobs the sweeper expired or removed after retention',
      labelNames: ['action'],
      registers,
    });
  }

  /** Records the counts a Queue port reports for a lane. */
  recordQueue(
    lane: string,
    counts: { active: number; locked: number; scheduled: number; deadLettered: number; oldestActiveAgeMs?: number },
  ): void {
    this.oldestMessageAge.set({ lane }, (counts.oldestActiveAgeMs ?? 0) / 1000);
    this.queueDepth.set({ lane, state: 'active' }, counts.active);
    this.queueDepth.set({ lane, state: 'locked' }, counts.locked);
    this.queueDepth.set({ lane, state: 'scheduled' }, counts.scheduled);
    this.queueDepth.set({ lane, state: 'dead_lettered' }, counts.deadLettered);
  }
}
