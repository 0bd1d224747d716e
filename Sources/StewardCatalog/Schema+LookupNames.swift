import GRDB

extension Schema {
    /// The distinct name words of the lookup index (`customer_search.names`), so that a misspelt
    /// word's loose alternatives can be the names spelt like it rather than every name sharing its
    /// first two letters (hundreds of customers per query at a million). Filled here from an
    /// existing index (1M customers: BENCHMARKS.md), then kept by the passes that write entries.
    static func registerLookupNames(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-lookup-names") { db in
            try db.execute(sql: IdentitySchema.customerSearchNameDDL)
            var words = Set<String>()
            let names = try String.fetchCursor(db, sql: "SELECT COALESCE(names, '') FROM customer_search")
            while let line = try names.next() {
                for w in line.split(separator: " ") { words.insert(String(w)) }
            }
            let insert = try db.makeStatement(sql: "INSERT INTO customer_search_name (term) VALUES (?)")
            for w in words.sorted() { try insert.execute(arguments: [w]) }
        }
    }
}
