import { resolve } from 'node:path';
import { AuthConfig, loadOrCreateLocalKeys, signLocalToken } from '@gpu-jobs/auth';
import { parseEnv } from '@gpu-jobs/config';

/** A token from the local issuer in DATA_DIR, as the gateway on embedded defaults accepts it. */
export async function devToken(tenant: string, ttlSeconds = 3600): Promise<string> {
  const config = parseEnv(AuthConfig);
  if (config.AUTH_JWKS_URL) throw new Error('AUTH_JWKS_URL is set: get tokens from that issuer, not from the local key');
  const keys = await loadOrCreateLocalKeys(resolve(config.DATA_DIR));
  return signLocalToken(keys, {
    tenant,
    ttlSeconds,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    tenantClaim: config.AUTH_TENANT_CLAIM,
  });
}
