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
  // fair dispatch (lane, held/dispatched, priority), rate buckets, webhook deliveries
  `ALTER TABLE jobs ADD COLUMN lane TEXT NOT NULL DEFAULT '';
   ALTER TABLE jobs ADD COLUMN dispatched INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE jobs ADD COLUMN priority_rank INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE jobs ADD COLUMN dispatched_ms INTEGER;
   UPDATE jobs SET lane = json_extract(doc, '$.lane'),
     priority_rank = CASE json_extract(doc, '$.priority') WHEN 'high' THEN 0 WHEN 'low' THEN 2 ELSE 1 END;
   CREATE INDEX jobs_by_lane ON jobs (lane, status, dispatched, tenant_id, priority_rank, created_ms, id);
   CREATE INDEX jobs_last_dispatch ON jobs (lane, tenant_id, dispatched_ms);
   CREATE TABLE rate_buckets (
     key TEXT PRIMARY KEY,
     tokens REAL NOT NULL,
     updated_ms INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE webhook_deliveries (
     id TEXT PRIMARY KEY,
     job_id TEXT NOT NULL,
     state TEXT NOT NULL,
     next_attempt_ms INTEGER NOT NULL,
     doc TEXT NOT NULL
   );
   CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_ms);
   CREATE INDEX webhook_deliveries_by_job ON webhook_deliveries (job_id);`,
  // the change log the job watcher reads once per commit: every write of a job appends its id, in the same
  // transaction (triggers: no write path can forget it); positions are never reused (AUTOINCREMENT)
  `CREATE TABLE job_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL);
   CREATE TRIGGER jobs_changed_on_insert AFTER INSERT ON jobs BEGIN INSERT INTO job_changes (job_id) VALUES (NEW.id); END;
   CREATE TRIGGER jobs_changed_on_update AFTER UPDATE ON jobs BEGIN INSERT INTO job_changes (job_id) VALUES (NEW.id); END;
   CREATE TRIGGER jobs_changed_on_delete AFTER DELETE ON jobs BEGIN INSERT INTO job_changes (job_id) VALUES (OLD.id); END;`,
];
