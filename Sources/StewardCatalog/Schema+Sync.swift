import GRDB

extension Schema {
    /// Destination sync (issue 20): what each destination last received, the batches sent to it (ids
    /// never reused; a batch that failed is re-sent with its id), each sync's outcome, and the CRM's
    /// field-level write-back state. Only content hashes are kept for values: the catalog never holds a
    /// second copy of personal data for a destination.
    static func registerSync(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v15-destination-sync") { db in
            try db.execute(sql: """
            -- Per destination, audience and customer: the content (hash of the fields sent) it holds now.
            CREATE TABLE sync_state (
                destination TEXT NOT NULL,
                audience TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                batch_id INTEGER NOT NULL,
                sent_at TEXT NOT NULL,
                PRIMARY KEY (destination, audience, customer_id)
            ) WITHOUT ROWID;

            -- AUTOINCREMENT: a batch id is never handed out twice, even after the newest batch is gone.
            CREATE TABLE sync_batch (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                destination TEXT NOT NULL,
                created_at TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending','delivered','failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                delivered_at TEXT,
                adds INTEGER NOT NULL DEFAULT 0,
                updates INTEGER NOT NULL DEFAULT 0,
                removes INTEGER NOT NULL DEFAULT 0,
                -- The body as first sent, so a re-send is byte for byte the same (sealed by the vault
                -- when the destination receives personal data unmasked).
                body TEXT NOT NULL DEFAULT ''
            );
            CREATE INDEX sync_batch_open ON sync_batch(destination, status, id);

            -- The changes of a batch until it is delivered (then they are folded into sync_state).
            CREATE TABLE sync_change (
                batch_id INTEGER NOT NULL REFERENCES sync_batch(id),
                seq INTEGER NOT NULL,
                op TEXT NOT NULL CHECK (op IN ('add','update','remove')),
                audience TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                PRIMARY KEY (batch_id, seq)
            ) WITHOUT ROWID;

            -- One row per `steward sync` of a destination (also after `steward run`).
            CREATE TABLE sync_run (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                destination TEXT NOT NULL,
                type TEXT NOT NULL,
                run_id INTEGER,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('ok','failed')),
                adds INTEGER NOT NULL DEFAULT 0,
                updates INTEGER NOT NULL DEFAULT 0,
                removes INTEGER NOT NULL DEFAULT 0,
                batches INTEGER NOT NULL DEFAULT 0,
                pending INTEGER NOT NULL DEFAULT 0,
                error TEXT
            );
            CREATE INDEX sync_run_by_destination ON sync_run(destination, id);

            -- CRM write-back: per CRM record and field, the hash of the value Steward last wrote and of
            -- the value the CRM held then; a CRM value differing from both was changed in the CRM.
            CREATE TABLE crm_field_state (
                destination TEXT NOT NULL,
                record_key TEXT NOT NULL,
                field TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                written_hash TEXT,
                crm_hash TEXT,
                crm_changed_at TEXT,
                PRIMARY KEY (destination, record_key, field)
            ) WITHOUT ROWID;

            -- Per audience, the latest lift measurement (treated vs holdout), for KPIs and the console.
            CREATE TABLE audience_lift (
                audience TEXT PRIMARY KEY,
                measured_at TEXT NOT NULL,
                window_days REAL NOT NULL,
                treated INTEGER NOT NULL,
                treated_converted INTEGER NOT NULL,
                holdout INTEGER NOT NULL,
                holdout_converted INTEGER NOT NULL,
                treated_revenue REAL NOT NULL,
                holdout_revenue REAL NOT NULL,
                lift REAL,
                lift_low REAL,
                lift_high REAL,
                incremental_revenue REAL
            );
            """)
            try allowCampaignActivities(db)
        }
        migrator.registerMigration("v16-sync-run-audiences") { db in
            try db.execute(sql: """
            -- What one sync sent for each audience its destination carries (zeros included), so an
            -- audience shows its own share of the destination's last sync.
            CREATE TABLE sync_run_audience (
                sync_run_id INTEGER NOT NULL REFERENCES sync_run(id),
                audience TEXT NOT NULL,
                adds INTEGER NOT NULL DEFAULT 0,
                updates INTEGER NOT NULL DEFAULT 0,
                removes INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (sync_run_id, audience)
            ) WITHOUT ROWID;
            """)
        }
    }

    /// `entity: campaign` rows are staged in `staged_activity`, whose CHECK named only transaction and
    /// event. A CHECK constraint does not shape the stored rows, so SQLite allows editing it in the
    /// schema text (sqlite.org/lang_altertable.html, "otherwise" case: writable_schema, then a new
    /// schema_version) instead of copying a table that holds millions of rows.
    static func allowCampaignActivities(_ db: Database) throws {
        let old = "CHECK (entity IN ('transaction','event'))"
        let new = "CHECK (entity IN ('transaction','event','campaign'))"
        guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'staged_activity'"),
              sql.contains(old) else { return }
        let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        try db.execute(sql: "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'staged_activity'",
                       arguments: [sql.replacingOccurrences(of: old, with: new)])
        try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        try db.execute(sql: "PRAGMA writable_schema = OFF")
    }
}
