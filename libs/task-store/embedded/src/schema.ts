/**
 * The embedded task store's tables. A job is stored whole as JSON (`doc`) beside the columns that
 * queries and conditional updates need. Append migrations; never edit a released one.
 */
export const TASK_STORE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     tenant_id TEXT NOT NULL,
     model TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     updated_at TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     deadline_ms INTEGER,
     doc TEXT NOT NULL
   );
   CREATE INDEX jobs_by_tenant ON jobs (tenant_id, created_ms DESC, id DESC);
   CREATE INDEX jobs_by_tenant_status ON jobs (tenant_id, status, created_ms DESC, id DESC);
   CREATE INDEX jobs_by_status ON jobs (status, deadline_ms, updated_at);
   CREATE TABLE idempotency_keys (
     tenant_id TEXT NOT NULL,
     key TEXT NOT NULL,
     job_id TEXT NOT NULL,
     request_hash TEXT NOT NULL,
     expires_ms INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, key)
   ) WITHOUT ROWID;
   CREATE TABLE usage (
     tenant_id TEXT NOT NULL,
     day TEXT NOT NULL,
     amount REAL NOT NULL,
     PRIMARY KEY (tenant_id, day)
   ) WITHOUT ROWID;`,
];
