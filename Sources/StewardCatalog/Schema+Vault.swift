import GRDB

extension Schema {
    /// The privacy vault's state: which key seals the catalog's PII (its id only; the key itself
    /// lives outside the catalog), the previous key while a rotation is under way, and a rotation's
    /// next key, recorded before its re-sealing transaction so a killed rotation resumes with it.
    static func registerVault(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10-vault") { db in
            try db.execute(sql: """
            CREATE TABLE vault_state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                key_id TEXT NOT NULL,
                previous_key_id TEXT,
                pending_key_id TEXT,
                enabled_at TEXT NOT NULL,
                rotated_at TEXT
            );
            """)
        }
    }
}
