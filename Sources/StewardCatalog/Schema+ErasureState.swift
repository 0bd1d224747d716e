import GRDB

extension Schema {
    /// An erasure request's progress, so a `forget` killed half-way is finished by the next one:
    /// `pending` once the person's rows are gone (one transaction), `done` once the pages that held
    /// them were rewritten and the WAL emptied. Requests recorded before this column cannot show
    /// they got that far: they start `pending`, and the next `forget` of the id rewrites the file.
    static func registerErasureState(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11-erasure-state") { db in
            try db.execute(sql: """
            ALTER TABLE erasure_request ADD COLUMN state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','done'));
            """)
        }
    }
}
