import Type from 'typebox';
import { parseEnv } from '@gpu-jobs/config';
import { PlatformConfig } from '@gpu-jobs/platform';
import { AuthConfig } from '@gpu-jobs/auth';

export const GatewayConfig = Type.Object({
  ...PlatformConfig.properties,
  ...AuthConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ default: '127.0.0.1', description: '0.0.0.0 in a container' }),
  PUBLIC_URL: Type.Optional(Type.String({ description: 'base URL clients use, for Location headers and the docs' })),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1024,
    default: 16 * 1024 * 1024,
    description: 'largest request body (base64 images are 4/3 of their size)',
  }),
  LONG_POLL_MAX_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 60 }),
  REPAIR_INTERVAL_SECONDS: Type.Integer({ minimum: 1, default: 60, description: 're-send messages of jobs stored but never queued' }),
  QUEUE_DUPLICATE_WINDOW_SECONDS: Type.Integer({ minimum: 30, default: 600, description: "the lane queues' duplicate-detection window" }),
  IDEMPOTENCY_TTL_SECONDS: Type.Integer({ minimum: 60, default: 86_400 }),
});
export type GatewayConfig = Type.Static<typeof GatewayConfig>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return parseEnv(GatewayConfig, env);
}
