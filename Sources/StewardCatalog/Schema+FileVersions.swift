import GRDB

extension Schema {
    /// A batch is a version of a file path, not a content seen once: the same bytes may come back as a
    /// later version (a restored file), so `(source, file, sha256)` is no longer unique. A version
    /// records how it was read (`mode`: `full`, `append` from `start_offset`, or `moved` from another
    /// path), the versions it extends (`chain_id`: the full load that began it), where its reading
    /// ended (`end_line`, and `clean_end` when the content ends with a line break, so the next version
    /// can append after it) and, for an SQLite source, the state of the database files it was read
    /// from (`file_state`: main file and WAL), while `sha256` is the hash of the rows it read.
    static func registerFileVersions(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-file-versions") { db in
            // The view names `batch`: SQLite's table rename checks views, so it goes first and comes back last.
            try db.execute(sql: """
            DROP VIEW raw_row;
            CREATE TABLE batch_v8 (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                source TEXT NOT NULL,
                run_id INTEGER NOT NULL REFERENCES run(id),
                file TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                file_modified_at TEXT,
                rows INTEGER NOT NULL,
                rows_loaded INTEGER NOT NULL,
                rows_quarantined INTEGER NOT NULL,
                first_raw_id INTEGER,
                last_raw_id INTEGER,
                loaded_at TEXT NOT NULL,
                columns_json TEXT,
                mode TEXT NOT NULL DEFAULT 'full',
                start_offset INTEGER NOT NULL DEFAULT 0,
                end_line INTEGER,
                clean_end INTEGER NOT NULL DEFAULT 0,
                chain_id INTEGER,
                file_state TEXT
            );
            INSERT INTO batch_v8 (id, source, run_id, file, sha256, size, file_modified_at, rows, rows_loaded,
                    rows_quarantined, first_raw_id, last_raw_id, loaded_at, columns_json, chain_id)
                SELECT id, source, run_id, file, sha256, size, file_modified_at, rows, rows_loaded,
                    rows_quarantined, first_raw_id, last_raw_id, loaded_at, columns_json, id FROM batch ORDER BY id;
            DROP TABLE batch;
            ALTER TABLE batch_v8 RENAME TO batch;
            CREATE INDEX batch_by_source ON batch(source, id);
            CREATE INDEX batch_by_source_time ON batch(source, loaded_at);
            CREATE INDEX batch_by_file ON batch(source, file, id);
            CREATE INDEX batch_by_content ON batch(source, sha256);
            CREATE VIEW raw_row AS
                SELECT r.id, r.source, r.batch_id, r.record_key, r.line,
                    CASE WHEN b.columns_json IS NOT NULL AND json_type(r.data) = 'array'
                        THEN (SELECT json_group_object(c.value, json_extract(r.data, '$[' || c.key || ']'))
                              FROM json_each(b.columns_json) c)
                        ELSE r.data END AS data
                FROM raw_record r JOIN batch b ON b.id = r.batch_id;
            """)
        }
        // A step may now end `warn` (unreadable rows quarantined, a file skipped) or `held` (the deletion
        // guard), and says how it read its files (`mode`): the status CHECK is rebuilt to allow them.
        migrator.registerMigration("v9-step-statuses") { db in
            try db.execute(sql: """
            CREATE TABLE run_step_v9 (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER NOT NULL REFERENCES run(id),
                source TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('running','success','unchanged','warn','held','failed','interrupted')),
                started_at TEXT NOT NULL,
                finished_at TEXT,
                duration_ms REAL,
                batches INTEGER NOT NULL DEFAULT 0,
                rows_read INTEGER NOT NULL DEFAULT 0,
                rows_loaded INTEGER NOT NULL DEFAULT 0,
                rows_quarantined INTEGER NOT NULL DEFAULT 0,
                message TEXT,
                mode TEXT
            );
            INSERT INTO run_step_v9 (id, run_id, source, status, started_at, finished_at, duration_ms, batches, rows_read,
                    rows_loaded, rows_quarantined, message)
                SELECT id, run_id, source, status, started_at, finished_at, duration_ms, batches, rows_read,
                    rows_loaded, rows_quarantined, message FROM run_step ORDER BY id;
            DROP TABLE run_step;
            ALTER TABLE run_step_v9 RENAME TO run_step;
            CREATE INDEX run_step_by_run ON run_step(run_id);
            CREATE INDEX run_step_by_source ON run_step(source, run_id);
            """)
        }
    }
}
