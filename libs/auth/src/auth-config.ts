import Type from 'typebox';

/** The variables that say which tokens the gateway accepts (and `npm run token` mints). */
export const AuthConfig = Type.Object({
  DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
  AUTH_ISSUER: Type.String({ minLength: 1, default: 'gpu-jobs-local' }),
  AUTH_AUDIENCE: Type.String({ minLength: 1, default: 'gpu-jobs' }),
  AUTH_JWKS_URL: Type.Optional(
    Type.String({ format: 'uri', description: "the issuer's JWKS (e.g. Entra ID); unset: a key pair in DATA_DIR/auth" }),
  ),
  AUTH_TENANT_CLAIM: Type.String({ minLength: 1, default: 'tenant', description: 'claim naming the tenant (e.g. tid for Entra ID)' }),
  AUTH_CLOCK_TOLERANCE_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
});
export type AuthConfig = Type.Static<typeof AuthConfig>;
