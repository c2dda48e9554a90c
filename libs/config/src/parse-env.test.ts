import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from './parse-env';

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 8080 }),
  DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
  DEBUG: Type.Boolean({ default: false }),
  MODE: Type.Optional(Type.Enum(['a', 'b'])),
});

describe('parseEnv', () => {
  it('fills defaults and converts types', () => {
    expect(parseEnv(Schema, {})).toEqual({ PORT: 8080, DATA_DIR: './.data', DEBUG: false });
    expect(parseEnv(Schema, { PORT: '9000', DEBUG: 'true', MODE: 'b', OTHER: 'x' })).toEqual({
      PORT: 9000,
      DATA_DIR: './.data',
      DEBUG: true,
      MODE: 'b',
    });
  });

  it('names every bad variable', () => {
    try {
      parseEnv(Schema, { PORT: 'eighty', MODE: 'c' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['MODE', 'PORT']);
      expect((err as Error).message).toMatch(/PORT: /);
    }
  });

  it('refuses an out-of-range number', () => {
    expect(() => parseEnv(Schema, { PORT: '70000' })).toThrow(/PORT/);
  });
});
