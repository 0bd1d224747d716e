import GRDB

extension Schema {
    /// `raw_record` without AUTOINCREMENT: with it SQLite rewrites `sqlite_sequence` after every
    /// inserted row, about a third of the raw insert's cost (BENCHMARKS.md). The loader numbers raw
    /// rows itself, past both the highest id and the highest batch range, so ids still only grow,
    /// even after `forget` deletes the newest rows.
    static func registerRawRowid(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-raw-rowid") { db in
            try db.execute(sql: """
            CREATE TABLE raw_record_v5 (
                id INTEGER PRIMARY KEY,
                source TEXT NOT NULL,
                batch_id INTEGER NOT NULL REFERENCES batch(id),
                record_key TEXT,
                line INTEGER NOT NULL,
                data TEXT NOT NULL
            );
            INSERT INTO raw_record_v5 (id, source, batch_id, record_key, line, data)
                SELECT id, source, batch_id, record_key, line, data FROM raw_record ORDER BY id;
            DROP TABLE raw_record;
            ALTER TABLE raw_record_v5 RENAME TO raw_record;
            """)
        }
    }
}
