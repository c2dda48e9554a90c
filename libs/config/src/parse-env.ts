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
  if ((value as Record<string, unknown>)['DEPLOYMENT_PROFILE'] === 'cloud') {
    const cloud = cloudProblems(schema, env);
    if (cloud.length > 0) throw new ConfigError(cloud);
  }
  return value as Static<T>;
}

/**
 * What a variable must be in a cloud deployment, declared on its schema as `x-cloud`:
 * - `'set'`: set explicitly (its default only suits one machine: a local issuer, a key in DATA_DIR...);
 * - `{ value }`: set to exactly this (the production adapter, a local-only switch left off).
 */
export type CloudRule = 'set' | { value: string | number | boolean };

/** The cloud rules of a schema that an environment breaks, each naming its variable. */
export function cloudProblems(schema: TObject, env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  for (const [key, rule] of Object.entries(cloudRules(schema))) {
    const prop = schema.properties[key];
    const raw = env[key];
    const set = raw !== undefined && raw !== '';
    if (rule === 'set') {
      if (!set) problems.push({ variable: key, message: 'must be set when DEPLOYMENT_PROFILE=cloud (its default suits one machine only)' });
    } else if (!set ? (prop as { default?: unknown }).default !== rule.value : String(raw) !== String(rule.value)) {
      problems.push({ variable: key, message: `must be ${String(rule.value)} when DEPLOYMENT_PROFILE=cloud` });
    }
  }
  return problems;
}

/** The variables a schema requires in a cloud deployment, with their rule (for docs and contract tests). */
export function cloudRules(schema: TObject): Record<string, CloudRule> {
  const rules: Record<string, CloudRule> = {};
  for (const [key, prop] of Object.entries(schema.properties)) {
    const rule = (prop as { 'x-cloud'?: CloudRule })['x-cloud'];
    if (rule !== undefined) rules[key] = rule;
  }
  return rules;
}
