import Foundation
import GRDB
import Testing
@testable import StewardIdentity

/// The shortcuts an uncached `GET /v1/customers?q=` takes at a million customers (issue 19) give
/// what the long way gives.
@Suite struct CustomerSearchFastPathTests {
    /// `phonesAsWritten` as it was before its shortcut: every token split off, marked ones turned back.
    static func reference(_ column: String) -> String {
        column.split(separator: " ").map { t in
            t.hasPrefix(CustomerSearch.phoneMark) ? String(t.dropFirst(CustomerSearch.phoneMark.count).reversed()) : String(t)
        }.joined(separator: " ")
    }

    @Test func phonesAsWrittenEqualsSplittingEveryToken() {
        let columns = ["", " ", "  ", "b3e21ead4523e0bfc1d87", "b3e21ead b9050bff", "p4321", "b12 p4321", "p4321 b12", "bp12 xp9",
                       " b12", "b12 ", "b12  b34", "p", "3136357273 6357273", "p37275363131 p4321", "é12 p9", "ap bp cp", "pp12"]
        for c in columns {
            #expect(CustomerSearch.phonesAsWritten(c) == Self.reference(c), "column \"\(c)\"")
        }
    }

    @Test func lookupsKeepALargePageCacheAndMap() throws {
        let db = try DatabaseQueue()
        try db.inDatabase { db in
            try CustomerSearch.mapForLookups(db)
            #expect(try Int.fetchOne(db, sql: "PRAGMA cache_size") == -CustomerSearch.lookupCacheKiB)
            #expect(CustomerSearch.lookupCacheKiB >= 16 << 10)
        }
    }
}
