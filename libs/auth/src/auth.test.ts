import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '@gpu-jobs/testing';
import { loadOrCreateLocalKeys, localIssuerToken, signLocalToken } from './local-keys';
import { AuthError, TokenVerifier } from './token-verifier';

const dir = makeTempDir('auth-');
afterAll(() => dir.remove());
const opts = { issuer: 'iss', audience: 'aud', tenantClaim: 'tenant' };

async function setup() {
  const keys = await loadOrCreateLocalKeys(dir.path);
  const verifier = new TokenVerifier({ ...opts, clockToleranceSeconds: 5, keys: { jwks: keys.jwks } });
  return { keys, verifier };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  return (err as AuthError).code;
}

describe('local issuer and verifier', () => {
  it('keeps one key pair across calls and accepts its tokens', async () => {
    const { keys, verifier } = await setup();
    expect((await loadOrCreateLocalKeys(dir.path)).jwks).toEqual(keys.jwks);
    const token = await signLocalToken(keys, { ...opts, tenant: 'acme' });
    expect(await verifier.verify(`Bearer ${token}`)).toEqual({ tenantId: 'acme', subject: 'dev:acme' });
  });

  it('refuses missing, malformed, expired, wrong-issuer, wrong-audience and foreign-key tokens', async () => {
    const { keys, verifier } = await setup();
    expect(await codeOf(verifier.verify(undefined))).toBe('unauthorized');
    expect(await codeOf(verifier.verify('Basic abc'))).toBe('unauthorized');
    expect(await codeOf(verifier.verify('Bearer not.a.jwt'))).toBe('unauthorized');
    expect(await codeOf(verifier.verify(`Bearer ${await signLocalToken(keys, { ...opts, tenant: 'a', ttlSeconds: -60 })}`))).toBe(
      'token_expired',
    );
    expect(await codeOf(verifier.verify(`Bearer ${await signLocalToken(keys, { ...opts, issuer: 'other', tenant: 'a' })}`))).toBe(
      'unauthorized',
    );
    expect(await codeOf(verifier.verify(`Bearer ${await signLocalToken(keys, { ...opts, audience: 'other', tenant: 'a' })}`))).toBe(
      'unauthorized',
    );
    const foreign = await generateKeyPair('ES256', { extractable: true });
    const forged = await new SignJWT({ tenant: 'a' })
      .setProtectedHeader({ alg: 'ES256', kid: (keys.jwks.keys[0] as { kid: string }).kid })
      .setIssuer('iss')
      .setAudience('aud')
      .setExpirationTime('1h')
      .sign(foreign.privateKey);
    expect(await codeOf(verifier.verify(`Bearer ${forged}`))).toBe('unauthorized');
    expect(await exportJWK(foreign.publicKey)).toBeDefined();
  });

  it('remembers a verified token, but never past its expiry', async () => {
    const keys = await loadOrCreateLocalKeys(dir.path);
    const verifier = new TokenVerifier({ ...opts, clockToleranceSeconds: 0, keys: { jwks: keys.jwks } });
    const token = await signLocalToken(keys, { ...opts, tenant: 'acme', ttlSeconds: 1 });
    expect((await verifier.verify(`Bearer ${token}`)).tenantId).toBe('acme');
    expect((await verifier.verify(`Bearer ${token}`)).tenantId).toBe('acme');
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await codeOf(verifier.verify(`Bearer ${token}`))).toBe('token_expired');
  });

  it('needs the tenant claim', async () => {
    const { keys, verifier } = await setup();
    const token = await signLocalToken(keys, { ...opts, tenantClaim: 'org', tenant: 'a' });
    expect(await codeOf(verifier.verify(`Bearer ${token}`))).toBe('unauthorized');
  });
});

describe('multi-tenant issuer ({tenantid}, as Entra ID common)', () => {
  const entra = 'https://login.microsoftonline.com/{tenantid}/v2.0';
  const tidA = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const tidB = '0b9c1f2e-1111-4a5b-9c3d-123456789abc';
  async function sign(privateKey: Parameters<SignJWT['sign']>[0], kid: string, claims: Record<string, unknown>, iss: string) {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(iss)
      .setAudience('api://gpu-jobs')
      .setExpirationTime('1h')
      .sign(privateKey);
  }

  it('accepts a token whose iss is the template filled with its own tid, from an allowed directory only', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const verifier = new TokenVerifier({
      issuer: entra,
      audience: 'api://gpu-jobs',
      tenantClaim: 'azp',
      clockToleranceSeconds: 5,
      allowedIssuerTenants: [tidA],
      keys: { jwks: { keys: [jwk] } },
    });
    const ok = await sign(pair.privateKey, 'k1', { tid: tidA, azp: 'client-app' }, `https://login.microsoftonline.com/${tidA}/v2.0`);
    expect((await verifier.verify(`Bearer ${ok}`)).tenantId).toBe('client-app');
    // iss of another directory than the token's tid
    const mismatched = await sign(pair.privateKey, 'k1', { tid: tidA, azp: 'x' }, `https://login.microsoftonline.com/${tidB}/v2.0`);
    expect(await codeOf(verifier.verify(`Bearer ${mismatched}`))).toBe('unauthorized');
    // a well-formed token of a directory not on the list
    const foreign = await sign(pair.privateKey, 'k1', { tid: tidB, azp: 'x' }, `https://login.microsoftonline.com/${tidB}/v2.0`);
    expect(await codeOf(verifier.verify(`Bearer ${foreign}`))).toBe('unauthorized');
    // the literal template is never an issuer
    const literal = await sign(pair.privateKey, 'k1', { tid: tidA, azp: 'x' }, entra);
    expect(await codeOf(verifier.verify(`Bearer ${literal}`))).toBe('unauthorized');
  });
});

describe('localIssuerToken', () => {
  it('is accepted by a verifier on the default auth settings', async () => {
    const keys = await loadOrCreateLocalKeys(dir.path);
    const verifier = new TokenVerifier({
      issuer: 'gpu-jobs-local',
      audience: 'gpu-jobs',
      tenantClaim: 'tenant',
      clockToleranceSeconds: 5,
      keys: { jwks: keys.jwks },
    });
    expect(await verifier.verify(`Bearer ${await localIssuerToken(dir.path, 'acme')}`)).toEqual({ tenantId: 'acme', subject: 'dev:acme' });
  });
});
