import Type from 'typebox';

/** The variables that say which tokens the gateway accepts (and `npm run token` mints). */
export const AuthConfig = Type.Object({
  DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
  AUTH_ISSUER: Type.String({
    minLength: 1,
    default: 'gpu-jobs-local',
    description: "the tokens' iss; {tenantid} in it stands for the token's tid (a multi-tenant Entra ID issuer)",
    'x-cloud': 'set',
  }),
  AUTH_AUDIENCE: Type.String({
    minLength: 1,
    default: 'gpu-jobs',
    description: "the tokens' aud: the API's application id or URI",
    'x-cloud': 'set',
  }),
  AUTH_JWKS_URL: Type.Optional(
    Type.String({ format: 'uri', description: "the issuer's JWKS (e.g. Entra ID); unset: a key pair in DATA_DIR/auth", 'x-cloud': 'set' }),
  ),
  AUTH_TENANT_CLAIM: Type.String({
    minLength: 1,
    default: 'tenant',
    description: "claim naming the tenant (for Entra ID: azp, the calling application, or tid, the caller's directory)",
    'x-cloud': 'set',
  }),
  AUTH_ALLOWED_ISSUER_TENANTS: Type.Optional(
    Type.String({ description: 'with a {tenantid} issuer: comma-separated directory ids whose tokens are accepted; unset: any' }),
  ),
  AUTH_CLOCK_TOLERANCE_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
});
export type AuthConfig = Type.Static<typeof AuthConfig>;
