import GRDB

extension Schema {
    /// Customer facts: the address dimension and its link to customers, activity (orders, tickets,
    /// events) linked to customers through the identity graph, RFM segments and the churn model.
    static func registerCustomerFacts(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-customer-facts") { db in
            try db.execute(sql: """
            -- Standardised, deduplicated addresses: one row per normalised (street, postcode, country).
            -- Rows are never deleted: an address no live record holds keeps its last sighting.
            CREATE TABLE address_dim (
                address_key INTEGER PRIMARY KEY AUTOINCREMENT,
                address_hash TEXT NOT NULL UNIQUE,
                street TEXT, city TEXT, postcode TEXT, country TEXT,
                first_seen_run INTEGER NOT NULL,
                last_seen_run INTEGER NOT NULL,
                first_seen_at TEXT NOT NULL,
                last_seen_at TEXT NOT NULL
            );

            -- Which addresses a customer has had. `sources`: live person records holding the address now
            -- (0 once none does); `is_current`: the address of the record the golden street came from.
            CREATE TABLE customer_address (
                customer_id TEXT NOT NULL,
                address_key INTEGER NOT NULL REFERENCES address_dim(address_key),
                sources INTEGER NOT NULL,
                is_current INTEGER NOT NULL CHECK (is_current IN (0, 1)),
                first_seen_run INTEGER NOT NULL,
                last_seen_run INTEGER NOT NULL,
                PRIMARY KEY (customer_id, address_key)
            );
            CREATE UNIQUE INDEX customer_address_current ON customer_address(customer_id) WHERE is_current = 1;

            -- Each staged activity row (order, ticket, event) resolved to a customer through its customer_ref.
            -- method: source_key | email | phone | national_id; candidates: how many customers the reference
            -- pointed at (above 1, the customer with the most records holding it was chosen).
            CREATE TABLE customer_activity_link (
                source TEXT NOT NULL,
                record_key TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                method TEXT NOT NULL,
                candidates INTEGER NOT NULL,
                linked_run INTEGER NOT NULL,
                PRIMARY KEY (source, record_key)
            );
            CREATE INDEX customer_activity_link_by_customer ON customer_activity_link(customer_id);

            -- One row per facts pass that changed something; the fingerprint lets an unchanged run skip.
            CREATE TABLE customer_facts_run (
                run_id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                activities INTEGER NOT NULL,
                linked INTEGER NOT NULL,
                addresses INTEGER NOT NULL,
                model_id INTEGER,
                detail_json TEXT NOT NULL
            );

            -- Each churn model trained, with its held-out accuracy (the churn KPI reads the latest).
            CREATE TABLE churn_model (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                trained_at TEXT NOT NULL,
                run_id INTEGER NOT NULL,
                reference_date TEXT NOT NULL,
                cutoff_date TEXT NOT NULL,
                window_days INTEGER NOT NULL,
                train_rows INTEGER NOT NULL,
                test_rows INTEGER NOT NULL,
                base_rate REAL NOT NULL,
                accuracy REAL NOT NULL,
                auc REAL,
                model_json TEXT NOT NULL
            );

            -- Per active customer: RFM values, quintile scores and segment, and the churn score.
            CREATE TABLE customer_score (
                customer_id TEXT PRIMARY KEY,
                recency_days INTEGER,
                frequency INTEGER NOT NULL,
                monetary REAL NOT NULL,
                r_score INTEGER, f_score INTEGER, m_score INTEGER,
                segment TEXT NOT NULL,
                churn_score REAL,
                model_id INTEGER,
                run_id INTEGER NOT NULL
            );
            CREATE INDEX customer_score_by_segment ON customer_score(segment);
            """)
        }
    }
}
