import type { Static, TObject } from 'typebox';
import { Value } from 'typebox/value';
import { fieldErrors } from '@gpu-jobs/job-contract';

/** A bad or missing environment variable, named, found at start-up. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
  }
}

/**
 * Reads the variables a schema names from the environment, once, at start-up: strings are converted
 * to the schema's numbers and booleans, defaults filled in, and every bad value reported by name.
 */
export function parseEnv<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const value = Value.Convert(schema, Value.Default(schema, raw));
  const problems = fieldErrors(schema, value).map((e) => ({
    variable: e.path.replace(/^\//, '').split('/')[0] || '(environment)',
    message: e.message,
  }));
  if (problems.length > 0) throw new ConfigError(problems);
  return value as Static<T>;
}
