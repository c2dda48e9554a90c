import { Compile, type Validator } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';

/** One failing field: a JSON pointer into the value and what is wrong with it. */
export interface FieldError {
  path: string;
  message: string;
}

/** A value did not match its schema. Carries every failing field, never the value itself. */
export class SchemaValidationError extends Error {
  override readonly name = 'SchemaValidationError';
  constructor(
    readonly schemaName: string,
    readonly errors: FieldError[],
  ) {
    super(`${schemaName} is invalid: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`);
  }
}

const validators = new WeakMap<TSchema, Validator>();

function validatorFor(schema: TSchema): Validator {
  let validator = validators.get(schema);
  if (!validator) {
    validator = Compile(schema) as unknown as Validator;
    validators.set(schema, validator);
  }
  return validator;
}

/** Checks a value against a schema; the compiled validator is cached per schema. */
export function isValid<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return validatorFor(schema).Check(value);
}

/** Lists the failing fields of a value, one entry per field, empty when it is valid. */
export function fieldErrors(schema: TSchema, value: unknown): FieldError[] {
  const byPath = new Map<string, FieldError>();
  for (const e of validatorFor(schema).Errors(value)) {
    // name the missing field itself, not the object that lacks it
    const missing = e.keyword === 'required' ? (e.params as { requiredProperties?: string[] }).requiredProperties : undefined;
    const paths = missing?.length ? missing.map((p) => `${e.instancePath}/${p}`) : [e.instancePath];
    for (const path of paths) {
      // a union reports one error per member; the first says enough
      if (!byPath.has(path)) byPath.set(path, { path, message: missing ? 'is required' : e.message });
    }
  }
  return [...byPath.values()];
}

/** Returns the value typed by the schema, or throws SchemaValidationError naming every failing field. */
export function parse<T extends TSchema>(
  schema: T,
  value: unknown,
  schemaName = (schema as { title?: string }).title ?? 'value',
): Static<T> {
  if (isValid(schema, value)) return value;
  throw new SchemaValidationError(schemaName, fieldErrors(schema, value));
}
