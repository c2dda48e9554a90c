import Type from 'typebox';

/** Variables every app reads to reach the ports. Embedded adapters are the default; nothing else is needed. */
export const PlatformConfig = Type.Object({
  DATA_DIR: Type.String({ minLength: 1, default: './.data', description: 'folder of the embedded adapters and the local signing key' }),
  QUEUE_ADAPTER: Type.Enum(['embedded'], {
    default: 'embedded',
    description: 'embedded (node:sqlite); servicebus arrives with the production adapters',
  }),
  TASK_STORE_ADAPTER: Type.Enum(['embedded'], {
    default: 'embedded',
    description: 'embedded (node:sqlite); mongodb arrives with the production adapters',
  }),
  BLOB_STORE_ADAPTER: Type.Enum(['local'], {
    default: 'local',
    description: 'local directory; azure arrives with the production adapters',
  }),
  MODEL_REGISTRY: Type.String({ minLength: 1, default: 'config/models.json' }),
  TENANTS_FILE: Type.String({
    minLength: 1,
    default: 'config/tenants.json',
    description: 'tenants, their limits and weights; re-read when it changes',
  }),
  QUEUE_LOCK_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 300,
    default: 60,
    description: 'peek-lock duration of embedded lane queues created by this process',
  }),
  QUEUE_MAX_DELIVERY_COUNT: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  EMBEDDED_SYNCHRONOUS: Type.Enum(['NORMAL', 'FULL'], {
    default: 'NORMAL',
    description: 'NORMAL survives any process crash; FULL also survives power loss (fsync per commit and per blob)',
  }),
});
export type PlatformConfig = Type.Static<typeof PlatformConfig>;
