import GRDB

/// The catalog's schema, as versioned migrations. Append new migrations; never edit a shipped one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-foundation") { db in
            try db.execute(sql: """
            CREATE TABLE source (
                name TEXT PRIMARY KEY,
                system TEXT NOT NULL,
                entity TEXT NOT NULL,
                format TEXT NOT NULL,
                path TEXT NOT NULL,
                key_column TEXT NOT NULL,
                warn_after_seconds REAL,
                error_after_seconds REAL,
                config_json TEXT NOT NULL DEFAULT '{}',
                updated_at TEXT NOT NULL
            );

            CREATE TABLE run (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                trigger TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('running','success','partial','failed','interrupted')),
                started_at TEXT NOT NULL,
                finished_at TEXT,
                pid INTEGER,
                actor TEXT NOT NULL,
                rows_read INTEGER NOT NULL DEFAULT 0,
                rows_loaded INTEGER NOT NULL DEFAULT 0,
                rows_quarantined INTEGER NOT NULL DEFAULT 0,
                message TEXT
            );

            CREATE TABLE run_step (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER NOT NULL REFERENCES run(id),
                source TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('running','success','unchanged','failed','interrupted')),
                started_at TEXT NOT NULL,
                finished_at TEXT,
                duration_ms REAL,
                batches INTEGER NOT NULL DEFAULT 0,
                rows_read INTEGER NOT NULL DEFAULT 0,
                rows_loaded INTEGER NOT NULL DEFAULT 0,
                rows_quarantined INTEGER NOT NULL DEFAULT 0,
                message TEXT
            );
            CREATE INDEX run_step_by_run ON run_step(run_id);
            CREATE INDEX run_step_by_source ON run_step(source, run_id);

            CREATE TABLE batch (
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
                UNIQUE (source, file, sha256)
            );
            CREATE INDEX batch_by_source ON batch(source, id);

            CREATE TABLE raw_record (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                source TEXT NOT NULL,
                batch_id INTEGER NOT NULL REFERENCES batch(id),
                record_key TEXT,
                line INTEGER NOT NULL,
                data TEXT NOT NULL
            );
            -- No secondary indexes: a batch's raw rows are the id range [first_raw_id, last_raw_id] of its batch row.

            -- Rowid tables with a unique key index: bulk loads append to the table and touch only the
            -- narrow index (a WITHOUT ROWID table of 25 columns splits pages on every random key).
            CREATE TABLE staged_person (
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                batch_id INTEGER NOT NULL,
                line INTEGER NOT NULL,
                first_name TEXT, last_name TEXT, full_name TEXT,
                first_name_original TEXT, last_name_original TEXT, full_name_original TEXT,
                email TEXT, phone TEXT, dob TEXT,
                street TEXT, city TEXT, postcode TEXT, region TEXT, country TEXT,
                national_id TEXT,
                flags TEXT,
                row_hash TEXT NOT NULL,
                last_seen_batch INTEGER NOT NULL,
                is_deleted INTEGER NOT NULL DEFAULT 0,
                first_seen_run INTEGER NOT NULL,
                updated_run INTEGER NOT NULL
            );

            CREATE TABLE staged_activity (
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                entity TEXT NOT NULL CHECK (entity IN ('transaction','event')),
                batch_id INTEGER NOT NULL,
                line INTEGER NOT NULL,
                customer_ref_kind TEXT,
                customer_ref TEXT,
                occurred_at TEXT,
                amount REAL,
                type TEXT,
                flags TEXT,
                row_hash TEXT NOT NULL,
                last_seen_batch INTEGER NOT NULL,
                is_deleted INTEGER NOT NULL DEFAULT 0,
                first_seen_run INTEGER NOT NULL,
                updated_run INTEGER NOT NULL
            );

            CREATE UNIQUE INDEX staged_person_key ON staged_person(source, record_key);
            CREATE UNIQUE INDEX staged_activity_key ON staged_activity(source, record_key);

            CREATE TABLE check_definition (
                source TEXT NOT NULL,
                name TEXT NOT NULL,
                type TEXT NOT NULL,
                column_name TEXT,
                dimension TEXT NOT NULL,
                severity TEXT NOT NULL CHECK (severity IN ('error','warn')),
                params_json TEXT NOT NULL,
                PRIMARY KEY (source, name)
            );

            CREATE TABLE check_result (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER NOT NULL REFERENCES run(id),
                batch_id INTEGER,
                source TEXT NOT NULL,
                check_name TEXT NOT NULL,
                type TEXT NOT NULL,
                column_name TEXT,
                dimension TEXT NOT NULL,
                severity TEXT NOT NULL,
                evaluated INTEGER NOT NULL,
                passed INTEGER NOT NULL,
                failed INTEGER NOT NULL,
                score REAL NOT NULL,
                weight INTEGER NOT NULL,
                samples_json TEXT NOT NULL DEFAULT '[]',
                evaluated_at TEXT NOT NULL
            );
            CREATE INDEX check_result_by_source ON check_result(source, check_name, run_id);
            CREATE INDEX check_result_by_run ON check_result(run_id);

            CREATE TABLE quarantine (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER NOT NULL REFERENCES run(id),
                source TEXT NOT NULL,
                batch_id INTEGER NOT NULL,
                file TEXT NOT NULL,
                line INTEGER NOT NULL,
                record_key TEXT,
                checks_json TEXT NOT NULL,
                reasons_json TEXT NOT NULL,
                raw TEXT NOT NULL,
                quarantined_at TEXT NOT NULL,
                released_run INTEGER,
                released_at TEXT,
                release_reason TEXT
            );
            CREATE INDEX quarantine_open ON quarantine(source, released_run);
            CREATE INDEX quarantine_by_key ON quarantine(source, record_key);

            -- Summary kept current inside each source's batch transaction so panes never scan big tables.
            CREATE TABLE source_stats (
                source TEXT PRIMARY KEY,
                rows_raw INTEGER NOT NULL DEFAULT 0,
                rows_staged INTEGER NOT NULL DEFAULT 0,
                rows_quarantined INTEGER NOT NULL DEFAULT 0,
                rows_flagged INTEGER NOT NULL DEFAULT 0,
                last_loaded_at TEXT,
                last_batch_id INTEGER,
                quality_score REAL,
                quality_weight INTEGER NOT NULL DEFAULT 0
            );

            -- Overall and per-dimension score after each run, for trends.
            CREATE TABLE quality_snapshot (
                run_id INTEGER PRIMARY KEY REFERENCES run(id),
                score REAL,
                dimensions_json TEXT NOT NULL,
                at TEXT NOT NULL
            );

            CREATE TABLE audit_event (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            );
            -- Append-only: history must never be rewritten.
            CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
                BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
            CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
                BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
            """)
        }
        registerIdentity(&migrator)
        registerRoadmap(&migrator)
        registerMetrics(&migrator)
        registerStewardship(&migrator)
        registerCustomerFacts(&migrator)
        registerRawRowid(&migrator)
        registerRawColumns(&migrator)
        registerLookupNames(&migrator)
        registerFileVersions(&migrator)
        registerErasureState(&migrator)
        registerVault(&migrator)
        registerAPITokens(&migrator)
        registerActivation(&migrator)
        registerSync(&migrator)
        return migrator
    }
}
