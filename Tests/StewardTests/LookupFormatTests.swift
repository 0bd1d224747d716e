import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardIdentity
@testable import StewardPipeline

/// A catalog whose lookup index was written in an earlier format answers phone lookups until the
/// next matching pass, which rebuilds it whole even with no new data.
@Suite(.serialized) struct LookupFormatTests {
    @Test func anIndexOfAnEarlierFormatIsRebuiltWholeByTheNextPass() async throws {
        try await offPool { try Self.body() }
    }

    static func body() throws {
        let p = try IdentityPipelineTests.demo(200)
        let summary = try IdentityPipelineTests.run(p)
        let config = try p.config()
        let catalog = try p.catalog()
        let (id, phone) = try #require(try catalog.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT customer_id, phone FROM golden_customer WHERE phone IS NOT NULL ORDER BY customer_id LIMIT 1")
                .map { ($0[0] as String, $0[1] as String) }
        })
        let digits = phone.filter(\.isNumber)
        // The index as format 1 wrote it: a token per suffix of 7 digits and more, and a fingerprint
        // without the format.
        try catalog.pool.write { db in
            let suffixes = (0...(digits.count - 7)).map { String(digits.dropFirst($0)) }.joined(separator: " ")
            try db.execute(sql: "UPDATE customer_search SET phones = ? WHERE customer_id = ?", arguments: [suffixes, id])
            try db.execute(sql: "UPDATE identity_run SET fingerprint = replace(fingerprint, ?, '')", arguments: [";" + CustomerSearch.indexFormat])
        }
        let written = "(\(digits.suffix(10).prefix(3))) \(digits.suffix(7).prefix(3))-\(digits.suffix(4))"
        // Until the next pass rebuilds it, the old entry is still found by its phone.
        #expect(try catalog.pool.read { try CustomerSearch.search($0, query: written) }.map(\.customerId).contains(id))

        let outcome = try IdentityEngine(config: config, catalog: catalog).resolve(runId: summary.runId)
        #expect(outcome.changed)
        #expect(outcome.scope == .all)
        #expect(try catalog.pool.read { try CustomerSearch.search($0, query: written) }.map(\.customerId).contains(id))
        let phones = try catalog.pool.read { try String.fetchOne($0, sql: "SELECT phones FROM customer_search WHERE customer_id = ?", arguments: [id]) }
        #expect(phones?.split(separator: " ").contains { $0 == Substring(CustomerSearch.phoneToken(phone)!) } == true)
        // And the pass after it has nothing to do.
        #expect(!(try IdentityEngine(config: config, catalog: catalog).resolve(runId: summary.runId).changed))
    }
}
