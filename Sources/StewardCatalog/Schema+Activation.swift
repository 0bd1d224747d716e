import GRDB

extension Schema {
    /// Activation (issue 20): custom traits and consent statements kept from each person record's raw
    /// row (staging keeps only canonical fields), their golden values per customer, activity totals,
    /// and audiences: current membership, who entered and left in each run, and each run's counts.
    static func registerActivation(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v14-activation") { db in
            try db.execute(sql: """
            -- Per live person record of a source declaring traits: the trait values of its raw row (a JSON
            -- object of name: text), and the batch read, so an unchanged record is not read again.
            CREATE TABLE record_trait (
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                batch_id INTEGER NOT NULL,
                values_json TEXT NOT NULL,
                PRIMARY KEY (source, record_key)
            ) WITHOUT ROWID;

            -- Per source declaring traits or consent: a fingerprint of the declaration; when it changes,
            -- the source's records are read again.
            CREATE TABLE activation_source_state (
                source TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL
            ) WITHOUT ROWID;

            -- Per record and channel: what the record states (granted 1: a grant, 0: a withdrawal) and when.
            CREATE TABLE consent_statement (
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                channel TEXT NOT NULL,
                granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
                at TEXT,
                batch_id INTEGER NOT NULL,
                PRIMARY KEY (source, record_key, channel)
            ) WITHOUT ROWID;

            -- Per customer and channel: the winning statement (no row: no statement, so no consent).
            CREATE TABLE customer_consent (
                customer_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
                at TEXT,
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                changed_run INTEGER NOT NULL,
                PRIMARY KEY (customer_id, channel)
            ) WITHOUT ROWID;

            -- Golden values of custom traits, chosen by the survivorship rules among the customer's records.
            CREATE TABLE customer_trait (
                customer_id TEXT NOT NULL,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                PRIMARY KEY (customer_id, name)
            ) WITHOUT ROWID;

            -- Per active customer: linked activity totals (orders and revenue over transactions).
            CREATE TABLE customer_activity_total (
                customer_id TEXT PRIMARY KEY,
                orders INTEGER NOT NULL,
                revenue REAL NOT NULL,
                first_order_at TEXT,
                last_order_at TEXT,
                tickets INTEGER NOT NULL,
                events INTEGER NOT NULL
            ) WITHOUT ROWID;

            -- Audiences as last materialised (the definition from steward.yml at that run).
            CREATE TABLE audience (
                name TEXT PRIMARY KEY,
                description TEXT NOT NULL,
                rule TEXT NOT NULL,
                channel TEXT,
                holdout_share REAL NOT NULL,
                window_seconds REAL,
                run_id INTEGER NOT NULL,
                materialised_at TEXT NOT NULL
            ) WITHOUT ROWID;

            -- Current members. holdout 1: in the control group (deterministic), never sent.
            CREATE TABLE audience_member (
                audience TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                holdout INTEGER NOT NULL CHECK (holdout IN (0, 1)),
                entered_run INTEGER NOT NULL,
                entered_at TEXT NOT NULL,
                PRIMARY KEY (audience, customer_id)
            ) WITHOUT ROWID;

            -- Who entered and left in each run (lift reads when each member entered).
            CREATE TABLE audience_change (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                audience TEXT NOT NULL,
                run_id INTEGER NOT NULL,
                customer_id TEXT NOT NULL,
                change TEXT NOT NULL CHECK (change IN ('entered', 'left')),
                holdout INTEGER NOT NULL CHECK (holdout IN (0, 1)),
                at TEXT NOT NULL
            );
            CREATE INDEX audience_change_by_run ON audience_change(audience, run_id);
            CREATE INDEX audience_change_by_customer ON audience_change(customer_id);

            -- One row per audience per materialisation.
            CREATE TABLE audience_run (
                audience TEXT NOT NULL,
                run_id INTEGER NOT NULL,
                at TEXT NOT NULL,
                size INTEGER NOT NULL,
                holdout INTEGER NOT NULL,
                excluded_no_consent INTEGER NOT NULL,
                entered INTEGER NOT NULL,
                left INTEGER NOT NULL,
                seconds REAL NOT NULL,
                PRIMARY KEY (audience, run_id)
            ) WITHOUT ROWID;
            """)
        }
    }
}
