import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** Why a request is not authenticated; `code` is the public problem code. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: 'unauthorized' | 'token_expired',
    message: string,
  ) {
    super(message);
  }
}

export interface VerifierOptions {
  issuer: string;
  audience: string;
  tenantClaim: string;
  clockToleranceSeconds: number;
  /** A remote JWKS (cached and refreshed by jose on unknown key ids) or a local key set. */
  keys: { url: string } | { jwks: JSONWebKeySet };
}

export interface Caller {
  tenantId: string;
  subject?: string;
}

/** Verifies bearer tokens: signature against the JWKS, issuer, audience, expiry; the tenant from a claim. */
export class TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;

  constructor(private readonly options: VerifierOptions) {
    this.getKey =
      'url' in options.keys
        ? createRemoteJWKSet(new URL(options.keys.url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 })
        : createLocalJWKSet(options.keys.jwks);
  }

  async verify(authorization: string | undefined): Promise<Caller> {
    if (!authorization) throw new AuthError('unauthorized', 'send Authorization: Bearer <token>');
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization.trim());
    if (!match) throw new AuthError('unauthorized', 'the Authorization header is not a bearer token');
    try {
      const { payload } = await jwtVerify(match[1] as string, this.getKey, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp'],
      });
      const tenant = payload[this.options.tenantClaim];
      if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 128) {
        throw new AuthError('unauthorized', `the token has no ${this.options.tenantClaim} claim naming a tenant`);
      }
      return payload.sub ? { tenantId: tenant, subject: payload.sub } : { tenantId: tenant };
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err instanceof errors.JWTExpired) throw new AuthError('token_expired', 'the token has expired');
      if (err instanceof errors.JWTClaimValidationFailed)
        throw new AuthError('unauthorized', `the token's ${err.claim} claim is not accepted`);
      if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
        throw new AuthError('unauthorized', 'the token is not signed by a trusted key');
      }
      throw new AuthError('unauthorized', 'the token is malformed');
    }
  }
}
