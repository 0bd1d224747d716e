import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// `export clusters`: every live staged person record with its customer id.
public enum ClusterExport {
    public static func rows(_ db: Database) throws -> [(source: String, recordId: String, customerId: String)] {
        try Row.fetchAll(db, sql: """
            SELECT p.source, p.record_key, m.customer_id FROM staged_person p
            JOIN identity_member m ON m.source = p.source AND m.record_key = p.record_key
            WHERE p.is_deleted = 0 ORDER BY p.source, p.record_key
            """).map { (source: $0[0], recordId: $0[1], customerId: $0[2]) }
    }
}
