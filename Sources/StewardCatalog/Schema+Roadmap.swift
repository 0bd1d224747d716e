import GRDB

extension Schema {
    /// Roadmap notes per task, and an index for reading tick history out of the audit log.
    /// Ticks themselves are audit events (`roadmap_tick` / `roadmap_untick`, subject the task id).
    static func registerRoadmap(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-roadmap") { db in
            try db.execute(sql: """
            CREATE TABLE roadmap_note (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                task_id TEXT NOT NULL,
                task_text TEXT NOT NULL,
                note TEXT NOT NULL,
                actor TEXT NOT NULL,
                at TEXT NOT NULL
            );
            CREATE INDEX roadmap_note_by_task ON roadmap_note(task_id, id);
            CREATE INDEX audit_event_by_action ON audit_event(action, id);
            """)
        }
    }
}
