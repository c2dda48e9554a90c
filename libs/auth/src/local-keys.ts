import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { Value } from 'typebox/value';
import { AuthConfig } from './auth-config';

const ALG = 'ES256';

export interface LocalKeys {
  privateJwk: JWK;
  jwks: JSONWebKeySet;
}

/**
 * The local issuer: an ES256 key pair made on first start in `<dataDir>/auth/` (private key mode 0600).
 * The gateway trusts its public half; `npm run token` signs with the private half. Production points
 * AUTH_JWKS_URL at a real issuer instead, and this file is never used.
 */
export async function loadOrCreateLocalKeys(dataDir: string): Promise<LocalKeys> {
  const dir = join(dataDir, 'auth');
  const privatePath = join(dir, 'signing-key.jwk.json');
  const publicPath = join(dir, 'jwks.json');
  if (!existsSync(privatePath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = `local-${Date.now().toString(36)}`;
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG, use: 'sig' };
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    writeFileSync(privatePath, JSON.stringify(privateJwk), { mode: 0o600, flag: 'wx' });
    writeFileSync(publicPath, JSON.stringify({ keys: [publicJwk] }, null, 2));
  }
  return {
    privateJwk: JSON.parse(readFileSync(privatePath, 'utf8')) as JWK,
    jwks: JSON.parse(readFileSync(publicPath, 'utf8')) as JSONWebKeySet,
  };
}

export interface TokenRequest {
  tenant: string;
  issuer: string;
  audience: string;
  tenantClaim: string;
  subject?: string;
  ttlSeconds?: number;
}

/** Signs a token with the local key, the way a real issuer would. */
export async function signLocalToken(keys: LocalKeys, request: TokenRequest): Promise<string> {
  const key = await importJWK(keys.privateJwk, ALG);
  return new SignJWT({ [request.tenantClaim]: request.tenant })
    .setProtectedHeader({ alg: ALG, kid: keys.privateJwk.kid as string, typ: 'JWT' })
    .setIssuer(request.issuer)
    .setAudience(request.audience)
    .setSubject(request.subject ?? `dev:${request.tenant}`)
    .setIssuedAt()
    .setExpirationTime(`${request.ttlSeconds ?? 3600}s`)
    .sign(key);
}

/**
 * A token for `tenant` from the local issuer in `dataDir`, as a gateway on its default auth settings accepts it
 * (tests, benchmarks, the chaos run). `npm run token` follows the environment's settings instead.
 */
export async function localIssuerToken(dataDir: string, tenant: string, overrides: Partial<TokenRequest> = {}): Promise<string> {
  // the schema's own defaults (the local issuer's name, audience and tenant claim)
  const defaults = Value.Default(AuthConfig, {}) as AuthConfig;
  return signLocalToken(await loadOrCreateLocalKeys(dataDir), {
    tenant,
    issuer: defaults.AUTH_ISSUER,
    audience: defaults.AUTH_AUDIENCE,
    tenantClaim: defaults.AUTH_TENANT_CLAIM,
    ...overrides,
  });
}

/**
 * A random secret made on first use in `<dataDir>/auth/<name>` (mode 0600), for local runs where no secret
 * is configured (the webhook master key). Several processes starting together read the same one.
 */
export function loadOrCreateLocalSecret(dataDir: string, name: string): string {
  const dir = join(dataDir, 'auth');
  const path = join(dir, name);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // written aside, then linked into place: readers never see a half-written file, and the first link wins
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, randomBytes(32).toString('base64url'), { mode: 0o600 });
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  return readFileSync(path, 'utf8').trim();
}
