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
  /**
   * The accepted `iss`. `{tenantid}` in it (Entra ID's multi-tenant issuer,
   * `https://login.microsoftonline.com/{tenantid}/v2.0`) stands for the token's own `tid` claim.
   */
  issuer: string;
  /** With a `{tenantid}` issuer: the directories whose tokens are accepted; empty or unset: any. */
  allowedIssuerTenants?: readonly string[];
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
/** Verified tokens are remembered this long at most (and never past their expiry). */
const CACHE_TTL_MS = 60_000;
const CACHE_MAX_ENTRIES = 10_000;

export class TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;
  /**
   * Clients send the same token with every request; verifying an ES256/RS256 signature each time costs
   * more than the rest of a submit. A verified token is remembered briefly (bounded count and time,
   * never past `exp`), so a revoked signing key stops working within a minute.
   */
  private readonly verified = new Map<string, { caller: Caller; until: number }>();

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
    const token = match[1] as string;
    const cached = this.verified.get(token);
    if (cached && cached.until > Date.now()) return cached.caller;
    return this.verifyToken(token);
  }

  private async verifyToken(token: string): Promise<Caller> {
    try {
      const templated = this.options.issuer.includes('{tenantid}');
      const { payload } = await jwtVerify(token, this.getKey, {
        ...(templated ? {} : { issuer: this.options.issuer }),
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp'],
      });
      if (templated) this.checkTemplatedIssuer(payload.iss, payload['tid']);
      const tenant = payload[this.options.tenantClaim];
      if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 128) {
        throw new AuthError('unauthorized', `the token has no ${this.options.tenantClaim} claim naming a tenant`);
      }
      const caller: Caller = payload.sub ? { tenantId: tenant, subject: payload.sub } : { tenantId: tenant };
      const until = Math.min(Date.now() + CACHE_TTL_MS, (payload.exp as number) * 1000);
      if (this.verified.size >= CACHE_MAX_ENTRIES) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, { caller, until });
      return caller;
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

  /** A multi-tenant issuer: `iss` must be the template with the token's own directory id, from an allowed directory. */
  private checkTemplatedIssuer(iss: unknown, tid: unknown): void {
    const tenantId = typeof tid === 'string' && /^[0-9a-f-]{36}$/i.test(tid) ? tid : undefined;
    if (!tenantId || iss !== this.options.issuer.replace('{tenantid}', tenantId)) {
      throw new AuthError('unauthorized', "the token's iss claim is not accepted");
    }
    const allowed = this.options.allowedIssuerTenants ?? [];
    if (allowed.length > 0 && !allowed.includes(tenantId.toLowerCase())) {
      throw new AuthError('unauthorized', "the token's directory (tid) is not accepted");
    }
  }
}
