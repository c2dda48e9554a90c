import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  DEFAULT_LANE_SETTINGS,
  ModelRegistry,
  SchemaValidationError,
  parse,
  type LaneSettings,
  type ModelEntry,
} from '@gpu-jobs/job-contract';

/** Files each runner kind needs in `weights.files`. */
const REQUIRED_FILES: Record<ModelEntry['runner'], string[]> = {
  ocr: ['detection', 'recognition', 'dictionary'],
  tensor: ['model'],
};

export class ModelRegistryError extends Error {
  override readonly name = 'ModelRegistryError';
}

/** A registry entry with its weight files resolved to absolute paths that exist. */
export interface ResolvedModel extends ModelEntry {
  paths: Record<string, string>;
}

export class ModelIndex {
  private readonly byId: Map<string, ResolvedModel>;
  constructor(
    readonly models: readonly ResolvedModel[],
    private readonly laneSettings: Readonly<Record<string, Partial<LaneSettings>>> = {},
  ) {
    this.byId = new Map(models.map((m) => [m.id, m]));
  }
  /** The lane's dispatch window and backlog cap, defaults where the registry does not say. */
  lane(lane: string): LaneSettings {
    return { ...DEFAULT_LANE_SETTINGS, ...this.laneSettings[lane] };
  }
  get(id: string): ResolvedModel | undefined {
    return this.byId.get(id);
  }
  forLane(lane: string): ResolvedModel[] {
    return this.models.filter((m) => m.lane === lane);
  }
  lanes(): string[] {
    return [...new Set(this.models.map((m) => m.lane))];
  }
}

/** Finds an installed package's folder by walking up from `from` through node_modules folders. */
export function findPackageDir(name: string, from: string = process.cwd()): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Reads and validates the model registry (config/models.json). Every problem is a ModelRegistryError that
 * names the model and the field, raised at start-up rather than at the first job.
 */
export function loadModelRegistry(
  path: string,
  packageSearchFrom: string = dirname(path),
  options: { resolveWeights?: boolean } = {},
): ModelIndex {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ModelRegistryError(`cannot read the model registry ${path}: ${(err as Error).message}`);
  }
  let registry: ModelRegistry;
  try {
    registry = parse(ModelRegistry, raw, 'model registry');
  } catch (err) {
    if (err instanceof SchemaValidationError) throw new ModelRegistryError(`${path}: ${err.message}`);
    throw err;
  }
  const seen = new Set<string>();
  const models = registry.models.map((entry) => {
    if (seen.has(entry.id)) throw new ModelRegistryError(`${path}: model ${entry.id} is listed twice`);
    seen.add(entry.id);
    if (entry.runner === 'tensor' && !entry.input.tensors) {
      throw new ModelRegistryError(`${path}: model ${entry.id} (runner tensor) needs input.tensors, the inputs its model declares`);
    }
    for (const role of REQUIRED_FILES[entry.runner]) {
      if (!entry.weights.files[role])
        throw new ModelRegistryError(`${path}: model ${entry.id} (runner ${entry.runner}) needs weights.files.${role}`);
    }
    // the gateway reads the registry for lanes, inputs and limits only: it never loads weights
    if (options.resolveWeights === false) return { ...entry, paths: {} };
    let base = dirname(path);
    if (entry.weights.package) {
      const dir = findPackageDir(entry.weights.package, packageSearchFrom);
      if (!dir) throw new ModelRegistryError(`model ${entry.id}: the weights package ${entry.weights.package} is not installed`);
      base = dir;
    }
    const paths = Object.fromEntries(
      Object.entries(entry.weights.files).map(([role, file]) => {
        const full = isAbsolute(file) ? file : join(base, file);
        if (!existsSync(full)) throw new ModelRegistryError(`model ${entry.id}: weights file ${role} not found at ${full}`);
        return [role, full];
      }),
    );
    return { ...entry, paths };
  });
  for (const lane of Object.keys(registry.lanes ?? {})) {
    if (!models.some((m) => m.lane === lane)) throw new ModelRegistryError(`${path}: lanes.${lane} is not the lane of any model`);
  }
  return new ModelIndex(models, registry.lanes ?? {});
}
