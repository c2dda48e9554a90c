import Type, { type Static, type TObject } from 'typebox';
import { ConfigError, parseEnv } from '@gpu-jobs/config';

/** Variables every app reads to reach the ports. Embedded adapters are the default; nothing else is needed. */
export const PlatformConfig = Type.Object({
  DEPLOYMENT_PROFILE: Type.Enum(['local', 'cloud'], {
    default: 'local',
    description: 'cloud: refuse to start on a default or value that only suits one machine (the variables marked x-cloud)',
  }),
  DATA_DIR: Type.String({ minLength: 1, default: './.data', description: 'folder of the embedded adapters and the local signing key' }),
  QUEUE_ADAPTER: Type.Enum(['embedded', 'servicebus'], {
    default: 'embedded',
    description: 'embedded (node:sqlite) or servicebus',
    'x-cloud': { value: 'servicebus' },
  }),
  TASK_STORE_ADAPTER: Type.Enum(['embedded', 'mongodb'], {
    default: 'embedded',
    description: 'embedded (node:sqlite) or mongodb',
    'x-cloud': { value: 'mongodb' },
  }),
  BLOB_STORE_ADAPTER: Type.Enum(['local', 'azure'], {
    default: 'local',
    description: 'local directory or azure (Blob Storage)',
    'x-cloud': { value: 'azure' },
  }),
  SERVICEBUS_NAMESPACE: Type.Optional(
    Type.String({
      minLength: 1,
      description: '<name>.servicebus.windows.net, with DefaultAzureCredential (workload identity)',
      'x-cloud': 'set',
    }),
  ),
  SERVICEBUS_CONNECTION_STRING: Type.Optional(Type.String({ minLength: 1, description: 'instead of the namespace, for local use' })),
  SERVICEBUS_MANAGE_QUEUES: Type.Boolean({
    default: false,
    description: 'create missing lane queues (needs Data Owner); off when infra/ provisions them',
    'x-cloud': { value: false },
  }),
  MONGODB_URI: Type.Optional(
    Type.String({ minLength: 1, description: 'mongodb:// or mongodb+srv:// (a replica set: transactions need one)', 'x-cloud': 'set' }),
  ),
  MONGODB_DATABASE: Type.String({ minLength: 1, default: 'gpujobs' }),
  MONGODB_MAX_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  MONGODB_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000, description: 'server selection and connect timeout' }),
  AZURE_STORAGE_ACCOUNT_URL: Type.Optional(
    Type.String({ minLength: 1, description: 'https://<account>.blob.core.windows.net, with DefaultAzureCredential', 'x-cloud': 'set' }),
  ),
  AZURE_STORAGE_CONNECTION_STRING: Type.Optional(Type.String({ minLength: 1, description: 'instead of the account URL (Azurite)' })),
  AZURE_STORAGE_CREATE_CONTAINERS: Type.Boolean({
    default: true,
    description:
      'create the containers at start-up (Azurite, a fresh account); off where infra/ provisions them and roles are container-scoped',
    'x-cloud': { value: false },
  }),
  AZURE_STORAGE_INPUTS_CONTAINER: Type.String({ minLength: 3, default: 'inputs' }),
  AZURE_STORAGE_RESULTS_CONTAINER: Type.String({ minLength: 3, default: 'results' }),
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

/**
 * The settings the chosen adapters need, checked at start-up after the schema: a missing one is a
 * ConfigError naming the variable (and the choice that needs it).
 */
export function adapterSettingProblems(config: PlatformConfig): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  if (config.QUEUE_ADAPTER === 'servicebus' && !config.SERVICEBUS_NAMESPACE && !config.SERVICEBUS_CONNECTION_STRING) {
    problems.push({
      variable: 'SERVICEBUS_NAMESPACE',
      message: 'is required when QUEUE_ADAPTER=servicebus (or set SERVICEBUS_CONNECTION_STRING)',
    });
  }
  if (config.TASK_STORE_ADAPTER === 'mongodb' && !config.MONGODB_URI) {
    problems.push({ variable: 'MONGODB_URI', message: 'is required when TASK_STORE_ADAPTER=mongodb' });
  }
  if (config.BLOB_STORE_ADAPTER === 'azure' && !config.AZURE_STORAGE_ACCOUNT_URL && !config.AZURE_STORAGE_CONNECTION_STRING) {
    problems.push({
      variable: 'AZURE_STORAGE_ACCOUNT_URL',
      message: 'is required when BLOB_STORE_ADAPTER=azure (or set AZURE_STORAGE_CONNECTION_STRING)',
    });
  }
  return problems;
}

/** Parses the app's variables, then checks the chosen adapters have their settings. */
export function parsePlatformEnv<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const config = parseEnv(schema, env);
  const problems = adapterSettingProblems(config as unknown as PlatformConfig);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
