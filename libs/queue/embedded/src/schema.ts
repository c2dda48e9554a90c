/**
 * The embedded queue's tables. A locked message's `available_at` is its lock expiry, so "deliverable"
 * is one comparison (`available_at <= now`) and an expired lock needs no sweeper: the message is simply
 * deliverable again. Append migrations; never edit a released one.
 */
export const QUEUE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE queues (
     name TEXT PRIMARY KEY,
     lock_duration_ms INTEGER NOT NULL,
     max_delivery_count INTEGER NOT NULL,
     duplicate_window_ms INTEGER NOT NULL
   );
   CREATE TABLE messages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     queue TEXT NOT NULL REFERENCES queues(name),
     dead_letter INTEGER NOT NULL DEFAULT 0,
     message_id TEXT NOT NULL,
     body TEXT NOT NULL,
     properties TEXT,
     enqueued_at INTEGER NOT NULL,
     available_at INTEGER NOT NULL,
     delivery_count INTEGER NOT NULL DEFAULT 0,
     lock_token TEXT,
     dead_letter_reason TEXT,
     dead_letter_description TEXT
   );
   CREATE INDEX messages_in_order ON messages (queue, dead_letter, seq);
   CREATE INDEX messages_by_availability ON messages (queue, dead_letter, available_at);
   CREATE TABLE seen_message_ids (
     queue TEXT NOT NULL,
     message_id TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (queue, message_id)
   ) WITHOUT ROWID;
   CREATE INDEX seen_message_ids_expiry ON seen_message_ids (queue, expires_at);`,
];
