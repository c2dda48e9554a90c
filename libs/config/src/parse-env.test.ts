import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, cloudRules, parseEnv } from './parse-env';

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

describe('DEPLOYMENT_PROFILE=cloud', () => {
  const Cloud = Type.Object({
    DEPLOYMENT_PROFILE: Type.Enum(['local', 'cloud'], { default: 'local' }),
    ISSUER: Type.String({ default: 'local-issuer', 'x-cloud': 'set' }),
    ADAPTER: Type.Enum(['embedded', 'remote'], { default: 'embedded', 'x-cloud': { value: 'remote' } }),
    LOOPBACK: Type.Boolean({ default: false, 'x-cloud': { value: false } }),
  });

  it('locally, the defaults stand', () => {
    expect(parseEnv(Cloud, {})).toMatchObject({ ISSUER: 'local-issuer', ADAPTER: 'embedded' });
  });

  it('in the cloud, a local-only default or value is a start-up error naming the variable', () => {
    try {
      parseEnv(Cloud, { DEPLOYMENT_PROFILE: 'cloud', LOOPBACK: 'true' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.variable)).toEqual(['ISSUER', 'ADAPTER', 'LOOPBACK']);
    }
    expect(parseEnv(Cloud, { DEPLOYMENT_PROFILE: 'cloud', ISSUER: 'https://login.example/t/v2.0', ADAPTER: 'remote' })).toMatchObject({
      ADAPTER: 'remote',
      LOOPBACK: false,
    });
  });

  it('lists the rules of a schema', () => {
    expect(cloudRules(Cloud)).toEqual({ ISSUER: 'set', ADAPTER: { value: 'remote' }, LOOPBACK: { value: false } });
  });
});
