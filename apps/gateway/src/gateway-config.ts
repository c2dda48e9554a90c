import Type from 'typebox';
import { PlatformConfig, parsePlatformEnv } from '@gpu-jobs/platform';
import { AuthConfig } from '@gpu-jobs/auth';

export const GatewayConfig = Type.Object({
  ...PlatformConfig.properties,
  ...AuthConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ default: '127.0.0.1', description: '0.0.0.0 in a container' }),
  PUBLIC_URL: Type.Optional(Type.String({ description: 'base URL clients use, for Location headers and the docs', 'x-cloud': 'set' })),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1024,
    default: 16 * 1024 * 1024,
    description: 'largest request body (base64 images are 4/3 of their size)',
  }),
  LONG_POLL_MAX_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 60 }),
  WAITS_MAX_PER_TENANT: Type.Integer({
    minimum: 1,
    default: 1_000,
    description: 'open long-polls (?wait) and event streams per tenant in one gateway; beyond: 429 too_many_waits',
  }),
  WAITS_MAX_OPEN: Type.Integer({
    minimum: 1,
    default: 20_000,
    description: 'open long-polls and event streams in one gateway; beyond: 503',
  }),
  REPAIR_INTERVAL_SECONDS: Type.Integer({ minimum: 1, default: 60, description: 're-send messages of jobs stored but never queued' }),
  QUEUE_DUPLICATE_WINDOW_SECONDS: Type.Integer({ minimum: 30, default: 600, description: "the lane queues' duplicate-detection window" }),
  IDEMPOTENCY_TTL_SECONDS: Type.Integer({
    minimum: 60,
    default: 86_400,
    description: 'how long an Idempotency-Key is remembered; a reuse after that creates a new job',
  }),
  RESULT_LINK_SECONDS: Type.Integer({
    minimum: 30,
    maximum: 86_400,
    default: 300,
    description: 'validity of direct download links to large results (Azure Blob)',
  }),
  RETENTION_SECONDS: Type.Integer({
    minimum: 60,
    default: 7 * 86_400,
    description: 'finished jobs, their inputs and results are removed this long after they finish',
  }),
  SWEEP_INTERVAL_SECONDS: Type.Integer({ minimum: 1, default: 30, description: 'expiry of overdue queued jobs, retention, key pruning' }),
  DISPATCH_INTERVAL_MS: Type.Integer({ minimum: 50, default: 500, description: 'how often held jobs are released when places free' }),
  WEBHOOK_MASTER_KEY: Type.Optional(
    Type.String({
      minLength: 32,
      description: "tenants' webhook signing secrets are derived from it; unset: a random key in DATA_DIR/auth",
      'x-cloud': 'set',
    }),
  ),
  WEBHOOK_ALLOW_LOOPBACK: Type.Boolean({
    default: false,
    description: 'allow http:// webhooks to loopback (local development only)',
    'x-cloud': { value: false },
  }),
  WEBHOOK_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 60, default: 10 }),
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 30, default: 8 }),
  WEBHOOK_RETRY_BASE_MS: Type.Integer({ minimum: 10, default: 5_000, description: 'first retry delay; doubles per attempt, with jitter' }),
  WEBHOOK_RETRY_MAX_SECONDS: Type.Integer({ minimum: 1, default: 3_600 }),
  WEBHOOK_POLL_MS: Type.Integer({ minimum: 10, default: 500, description: 'how often due deliveries are looked for' }),
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1_000, description: '503 above this event-loop delay; 0: off' }),
  PRESSURE_MAX_HEAP_USED_BYTES: Type.Integer({ minimum: 0, default: 0, description: '503 above this heap; 0: off' }),
  PRESSURE_MAX_RSS_BYTES: Type.Integer({ minimum: 0, default: 0, description: '503 above this resident memory; 0: off' }),
});
export type GatewayConfig = Type.Static<typeof GatewayConfig>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return parsePlatformEnv(GatewayConfig, env);
}
