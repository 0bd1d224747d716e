import GRDB

extension Schema {

    /// Identity resolution and Customer 360: match edges, customers with stable ids, merge/split
    /// events, review decisions, golden records and the lookup index.
    static func registerIdentity(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-identity") { db in
            try db.execute(sql: """
            -- One row per customer id ever issued; merged ids stay, pointing at the survivor.
            CREATE TABLE identity_customer (
                customer_id TEXT PRIMARY KEY,
                status TEXT NOT NULL CHECK (status IN ('active','merged','retired')),
                merged_into TEXT,
                records INTEGER NOT NULL DEFAULT 0,
                created_run INTEGER NOT NULL,
                updated_run INTEGER NOT NULL
            );

            -- Which customer each staged person record belongs to.
            CREATE TABLE identity_member (
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                match_probability REAL,
                assigned_run INTEGER NOT NULL,
                PRIMARY KEY (source, record_key)
            );
            CREATE INDEX identity_member_by_customer ON identity_member(customer_id);

            -- Scored pairs of the latest matching pass at or above the review band.
            CREATE TABLE identity_edge (
                a_source TEXT NOT NULL, a_key TEXT NOT NULL,
                b_source TEXT NOT NULL, b_key TEXT NOT NULL,
                probability REAL NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('match','review','refused')),
                run_id INTEGER NOT NULL
            );
            CREATE INDEX identity_edge_by_a ON identity_edge(a_source, a_key);
            CREATE INDEX identity_edge_by_b ON identity_edge(b_source, b_key);
            CREATE INDEX identity_edge_by_status ON identity_edge(status, probability);

            -- A steward's accept/reject of a pair; overrides the model on later runs.
            CREATE TABLE identity_decision (
                a_source TEXT NOT NULL, a_key TEXT NOT NULL,
                b_source TEXT NOT NULL, b_key TEXT NOT NULL,
                decision TEXT NOT NULL CHECK (decision IN ('accept','reject')),
                actor TEXT NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (a_source, a_key, b_source, b_key)
            );

            CREATE TABLE identity_event (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER NOT NULL,
                at TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('create','join','merge','split','retire')),
                customer_id TEXT NOT NULL,
                other_customer_id TEXT,
                detail TEXT NOT NULL DEFAULT ''
            );
            CREATE INDEX identity_event_by_customer ON identity_event(customer_id);

            -- Placeholder identifiers found by frequency in the latest pass.
            CREATE TABLE identity_junk (
                field TEXT NOT NULL,
                value TEXT NOT NULL,
                records INTEGER NOT NULL,
                PRIMARY KEY (field, value)
            );

            -- One row per matching pass: counts, the fitted model and timings.
            CREATE TABLE identity_run (
                run_id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                records INTEGER NOT NULL,
                candidate_pairs INTEGER NOT NULL,
                matched_pairs INTEGER NOT NULL,
                review_pairs INTEGER NOT NULL,
                refused_pairs INTEGER NOT NULL,
                clusters INTEGER NOT NULL,
                model_json TEXT NOT NULL,
                detail_json TEXT NOT NULL
            );

            -- The golden record per active customer; provenance_json names the source record of each value.
            CREATE TABLE golden_customer (
                customer_id TEXT PRIMARY KEY,
                first_name TEXT, last_name TEXT, email TEXT, phone TEXT, dob TEXT,
                street TEXT, city TEXT, postcode TEXT, region TEXT, country TEXT, national_id TEXT,
                provenance_json TEXT NOT NULL,
                updated_run INTEGER NOT NULL
            );

            -- Customer dimension, SCD Type 2: half-open [valid_from, valid_to); one current row per customer.
            CREATE TABLE customer_dim (
                sk INTEGER PRIMARY KEY AUTOINCREMENT,
                customer_id TEXT NOT NULL,
                first_name TEXT, last_name TEXT, email TEXT, phone TEXT, dob TEXT,
                street TEXT, city TEXT, postcode TEXT, region TEXT, country TEXT, national_id TEXT,
                valid_from TEXT NOT NULL,
                valid_to TEXT,
                is_current INTEGER NOT NULL CHECK (is_current IN (0, 1)),
                change_hash TEXT NOT NULL,
                reason TEXT NOT NULL,
                run_id INTEGER NOT NULL
            );
            CREATE INDEX customer_dim_by_customer ON customer_dim(customer_id, valid_from);
            CREATE UNIQUE INDEX customer_dim_current ON customer_dim(customer_id) WHERE is_current = 1;

            """)
            try db.execute(sql: IdentitySchema.customerSearchDDL)
        }
        migrator.registerMigration("v3-lookup-timing") { db in
            // Every customer lookup, timed by Steward itself: the "query performance" KPI reads its p95.
            try db.execute(sql: """
            CREATE TABLE customer_lookup_timing (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                duration_ms REAL NOT NULL,
                results INTEGER NOT NULL
            );
            CREATE INDEX customer_lookup_timing_by_time ON customer_lookup_timing(at);
            """)
        }
    }
}

/// Identity tables that are rebuilt outside migrations.
public enum IdentitySchema {
    /// The lookup index: rebuilt after each matching pass (bulk, no sync triggers). Dropping and
    /// re-creating it is much cheaper than deleting every row of an FTS5 table.
    /// Every word of the index's `names` column, once: a misspelt word's loose alternatives are
    /// looked up here. Entries' writers add their words; a word whose entries are gone stays
    /// (it matches nothing) until a whole rebuild, except after erasure, which removes it.
    public static let customerSearchNameDDL = """
        CREATE TABLE customer_search_name (term TEXT PRIMARY KEY) WITHOUT ROWID
        """

    public static let customerSearchDDL = """
        CREATE VIRTUAL TABLE customer_search USING fts5(
            customer_id UNINDEXED, names, sounds, emails, phones, postcodes, ids,
            prefix = '2 3', tokenize = 'unicode61 remove_diacritics 2'
        )
        """
}
