import GRDB

extension Schema {
    /// SLA/KPI tables: measurements on every evaluation, manual KPI values, and the alert state that
    /// keeps webhooks from repeating a message while the health state holds.
    static func registerMetrics(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-metrics") { db in
            try db.execute(sql: """
            CREATE TABLE kpi_measurement (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kpi TEXT NOT NULL,                 -- normalised KPI name (lowercase, single spaces)
                name TEXT NOT NULL,                -- as written
                at TEXT NOT NULL,
                run_id INTEGER,
                measure TEXT NOT NULL,             -- built-in measure or 'manual'
                value REAL,
                status TEXT NOT NULL CHECK (status IN ('met','at_risk','breached','no_data')),
                target TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            );
            CREATE INDEX kpi_measurement_by_kpi ON kpi_measurement(kpi, id);
            CREATE TRIGGER kpi_measurement_no_update BEFORE UPDATE ON kpi_measurement
                BEGIN SELECT RAISE(ABORT, 'kpi_measurement is append-only'); END;

            CREATE TABLE kpi_manual_value (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kpi TEXT NOT NULL,
                name TEXT NOT NULL,
                value REAL NOT NULL,
                text TEXT NOT NULL,                -- the value as the user typed it
                at TEXT NOT NULL,                  -- when the value was true (--at), default now
                actor TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            );
            CREATE INDEX kpi_manual_value_by_kpi ON kpi_manual_value(kpi, at);

            -- Uptime reads each source's load times in a window: an index-only range scan per source.
            CREATE INDEX batch_by_source_time ON batch(source, loaded_at);

            CREATE TABLE alert_state (
                webhook TEXT PRIMARY KEY,
                status TEXT NOT NULL CHECK (status IN ('ok','warn','breach')),
                problems_json TEXT NOT NULL DEFAULT '[]',
                changed_at TEXT NOT NULL,
                last_error TEXT,
                last_error_at TEXT
            );
            """)
        }
    }
}
