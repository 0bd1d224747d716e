import GRDB

extension Schema {

    /// Steward operations on whole customers (merge, split) and erasure on request (forget):
    /// what was asked, by whom, and the tombstones that keep erased rows from being reloaded.
    static func registerStewardship(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-stewardship") { db in
            try db.execute(sql: """
            -- A steward's merge or split of whole customers. The pair decisions it wrote into
            -- identity_decision are what later matching passes obey; this row says why they exist.
            CREATE TABLE identity_steward_action (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL CHECK (kind IN ('merge','split')),
                customer_id TEXT NOT NULL,
                other_customer_id TEXT NOT NULL,
                records_json TEXT NOT NULL,
                decisions INTEGER NOT NULL,
                actor TEXT NOT NULL,
                at TEXT NOT NULL
            );
            CREATE INDEX identity_steward_action_by_customer ON identity_steward_action(customer_id);

            -- One erasure request (`steward forget`): counts only, never the erased values.
            CREATE TABLE erasure_request (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                customer_id TEXT NOT NULL,
                actor TEXT NOT NULL,
                at TEXT NOT NULL,
                detail_json TEXT NOT NULL
            );
            CREATE INDEX erasure_request_by_customer ON erasure_request(customer_id);

            -- Each erased raw row: its source, record key ('' when it had none) and the SHA-256 of
            -- its text. A later load skips a row with the same key and hash (the source sent the
            -- same data again); a changed row of that record is a new version and loads.
            CREATE TABLE erasure_tombstone (
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                row_sha256 TEXT NOT NULL,
                request_id INTEGER NOT NULL REFERENCES erasure_request(id),
                PRIMARY KEY (source, record_key, row_sha256)
            ) WITHOUT ROWID;
            """)
        }
    }
}
