import { readFileSync, statSync } from 'node:fs';
import { SchemaValidationError, parse } from '@gpu-jobs/job-contract';
import { TenantsFile, resolveTenants, type Tenant } from './tenants';

export class TenantsFileError extends Error {
  override readonly name = 'TenantsFileError';
}

function read(path: string): Map<string, Tenant> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TenantsFileError(`cannot read the tenants file ${path}: ${(err as Error).message}`);
  }
  try {
    return resolveTenants(parse(TenantsFile, raw, 'tenants file'));
  } catch (err) {
    if (err instanceof SchemaValidationError) throw new TenantsFileError(`${path}: ${err.message}`);
    throw err;
  }
}

/**
 * Tenants and their limits, from a JSON file validated at start-up (a bad file stops the app with the field
 * named). `watch` re-reads it when it changes, without a restart; a bad edit keeps the last good version.
 */
export class TenantRegistry {
  private tenants: Map<string, Tenant>;
  private version = 0;

  private constructor(
    readonly path: string,
    tenants: Map<string, Tenant>,
  ) {
    this.tenants = tenants;
  }

  static load(path: string): TenantRegistry {
    return new TenantRegistry(path, read(path));
  }

  /** Tenants given in code, for tests and tools. */
  static of(tenants: Tenant[]): TenantRegistry {
    return new TenantRegistry('(in memory)', new Map(tenants.map((t) => [t.id, t])));
  }

  get(id: string): Tenant | undefined {
    return this.tenants.get(id);
  }

  ids(): string[] {
    return [...this.tenants.keys()];
  }

  /** How many times the file was (re)loaded successfully after start-up. */
  get reloads(): number {
    return this.version;
  }

  /** Reads the file again; on error the tenants stay as they were and the error is returned. */
  reload(): TenantsFileError | undefined {
    try {
      this.tenants = read(this.path);
      this.version += 1;
      return undefined;
    } catch (err) {
      if (err instanceof TenantsFileError) return err;
      throw err;
    }
  }

  /** Polls the file's modification time (works on every filesystem, including mounted ConfigMaps). Returns stop. */
  watch(onReload: (error: TenantsFileError | undefined) => void, intervalMs = 2_000): () => void {
    // the baseline is taken now, synchronously: an edit right after this call is never missed
    let last = fingerprint(this.path);
    const timer = setInterval(() => {
      const now = fingerprint(this.path);
      if (now === last) return;
      last = now;
      onReload(this.reload());
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/** What changes when the file is edited or replaced: modification time, size and inode. */
function fingerprint(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'missing';
  }
}
