import GRDB

extension Schema {
    /// Bearer tokens of `steward serve`. Only a token's SHA-256 is kept: the token itself is printed
    /// once by `steward token create` and cannot be read back from the catalog. A revoked token keeps
    /// its row (and its name) so the audit trail that names it stays meaningful.
    static func registerAPITokens(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12-api-tokens") { db in
            try db.execute(sql: """
            CREATE TABLE api_token (
                name TEXT PRIMARY KEY,
                scope TEXT NOT NULL CHECK (scope IN ('read','pii','write')),
                token_sha256 TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                expires_at TEXT,
                revoked_at TEXT,
                last_used_at TEXT
            );
            """)
        }
    }
}
