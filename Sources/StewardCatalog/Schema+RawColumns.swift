import GRDB

extension Schema {
    /// Raw rows of a file with a header are JSON arrays of the values; the batch keeps the column names
    /// once (`batch.columns_json`) instead of every row repeating them as object keys, which halves the
    /// raw layer, the biggest part of the catalog (BENCHMARKS.md). `raw_row` shows every raw row as
    /// the JSON object it stands for, arrays and the older object rows alike.
    static func registerRawColumns(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-raw-columns") { db in
            try db.execute(sql: """
            ALTER TABLE batch ADD COLUMN columns_json TEXT;
            CREATE VIEW raw_row AS
                SELECT r.id, r.source, r.batch_id, r.record_key, r.line,
                    CASE WHEN b.columns_json IS NOT NULL AND json_type(r.data) = 'array'
                        THEN (SELECT json_group_object(c.value, json_extract(r.data, '$[' || c.key || ']'))
                              FROM json_each(b.columns_json) c)
                        ELSE r.data END AS data
                FROM raw_record r JOIN batch b ON b.id = r.batch_id;
            """)
        }
    }
}
