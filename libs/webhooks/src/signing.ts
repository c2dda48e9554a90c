import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * A tenant's signing secret in the Standard Webhooks format (`whsec_` + base64 key), derived from the
 * platform's master key so no per-tenant secret needs storing; rotate the master key to rotate them all.
 */
export function deriveTenantSecret(masterKey: string, tenantId: string): string {
  return `whsec_${createHmac('sha256', masterKey).update(`webhook-secret:${tenantId}`).digest('base64')}`;
}

/**
 * The Standard Webhooks headers for one attempt: `webhook-signature` is `v1,` + base64 HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the tenant's secret. Receivers verify it with any Standard Webhooks library.
 */
export function signedHeaders(secret: string, id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}
