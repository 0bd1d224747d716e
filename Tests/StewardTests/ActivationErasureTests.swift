import Foundation
import GRDB
import Testing
@testable import StewardActivation
@testable import StewardCatalog
@testable import StewardIdentity
@testable import StewardPipeline

/// `steward forget` reaches the activation layer (issues 16 and 20): the person's traits, consent,
/// audience membership and history go, a batch not yet delivered no longer carries their values, and
/// every destination that held them is sent a remove on its next sync, an upsert destination too.
@Suite struct ActivationErasureTests {
    static let destinations = """

    destinations:
      - {name: drop, type: file, audiences: [rich], mode: upsert, fields: [customer_id, email, city], pii: true, path: out/drop.csv}
      - {name: hook, type: webhook, audiences: [rich], mode: mirror, fields: [customer_id, email], pii: true, url: "http://127.0.0.1:9/never"}
    """

    static func run(_ p: TempProject) throws -> RunSummary {
        let config = try p.config()
        return try PipelineRunner(config: config, catalog: try Catalog.open(at: config.catalogURL),
                                  extensions: [IdentityResolution(), CustomerFactsStep(),
                                               ActivationStep(now: { ActivationPipelineTests.now }), DestinationSyncStep()]).run()
    }

    /// Rows of every table holding `text` anywhere in a text column (the catalog read as plaintext).
    static func tablesQuoting(_ text: String, _ catalog: Catalog) throws -> [String] {
        try catalog.pool.read { db in
            let vault = VaultBox.of(db)
            return try TextScrub.textTables(db).filter { table in
                let cells = try Row.fetchAll(db, sql: "SELECT \(table.columns.map { "CAST(\"\($0)\" AS TEXT)" }.joined(separator: ", ")) FROM \"\(table.name)\"")
                return cells.contains { row in (0..<row.count).contains { (row[$0] as String?).map { vault.reveal($0).lowercased().contains(text) } ?? false } }
            }.map(\.name)
        }
    }

    @Test func forgetRemovesActivationRowsAndTellsEveryDestination() async throws {
        try await offPool { try Self.body() }
    }

    static func body() throws {
        let p = ActivationPipelineTests.project()
        p.write("steward.yml", ActivationPipelineTests.yml + destinations)
        #expect(try run(p).status != "failed")
        let config = try p.config()
        let catalog = try p.catalog()
        let ann = try ActivationPipelineTests.customer(p, "crm", "1"), cy = try ActivationPipelineTests.customer(p, "crm", "3")
        #expect(try catalog.audienceMembers("rich").map(\.customerId) == [ann, cy].sorted())
        func count(_ sql: String, _ args: StatementArguments) throws -> Int { try catalog.pool.read { try Int.fetchOne($0, sql: sql, arguments: args) ?? 0 } }
        let byCustomer = ["customer_trait", "customer_consent", "customer_activity_total", "audience_member", "audience_change"]
        for table in byCustomer { #expect(try count("SELECT COUNT(*) FROM \(table) WHERE customer_id = ?", [ann]) > 0, "\(table) before") }
        #expect(try count("SELECT COUNT(*) FROM sync_state WHERE destination = 'drop' AND customer_id = ?", [ann]) == 1)
        // The webhook cannot be reached: its batch waits, holding Ann's email.
        let open = try catalog.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, body FROM sync_batch WHERE destination = 'hook' AND status IN ('pending','failed')")
                .map { (id: $0[0] as Int64, body: VaultBox.of(db).reveal($0[1] as String)) }
        }
        #expect(open.count == 1 && open.first?.body.contains("ann.lee@example.com") == true)

        let outcome = try Erasure.forget(catalog: catalog, config: config, customerId: ann)
        #expect(outcome.customerIds.contains(ann))
        for table in byCustomer { #expect(try count("SELECT COUNT(*) FROM \(table) WHERE customer_id = ?", [ann]) == 0, "\(table) after") }
        for table in ["record_trait", "consent_statement"] {
            #expect(try count("SELECT COUNT(*) FROM \(table) WHERE (source, record_key) IN (VALUES ('crm', '1'), ('panel', 'p1'))", []) == 0, "\(table)")
        }
        // Cy is untouched.
        #expect(try catalog.audienceMembers("rich").map(\.customerId) == [cy])
        #expect(try count("SELECT COUNT(*) FROM customer_trait WHERE customer_id = ?", [cy]) > 0)
        // What the drop holds of Ann is marked, without values; the waiting batch now removes her.
        #expect(try catalog.pool.read { try String.fetchOne($0, sql: "SELECT content_hash FROM sync_state WHERE destination = 'drop' AND customer_id = ?", arguments: [ann]) }
                == ActivationErasure.erasedHash)
        let rewritten = try catalog.pool.read { db in
            VaultBox.of(db).reveal(try String.fetchOne(db, sql: "SELECT body FROM sync_batch WHERE id = ?", arguments: [open[0].id]) ?? "")
        }
        #expect(!rewritten.contains("ann.lee"))
        let changes = try #require((try JSONSerialization.jsonObject(with: Data(rewritten.utf8)) as? [String: Any])?["changes"] as? [[String: Any]])
        #expect(changes.first { $0["customer_id"] as? String == ann }?["op"] as? String == "remove")
        #expect(changes.contains { $0["customer_id"] as? String == cy && $0["op"] as? String == "add" })
        // Nothing in the catalog quotes her email any more.
        #expect(try tablesQuoting("ann.lee@example.com", catalog) == [])

        // The next run's sync sends the upsert destination a remove for her, and then holds nothing of her.
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: p.dir.appendingPathComponent("out").path))
        #expect(try run(p).status != "failed")
        let newDrops = Set(try FileManager.default.contentsOfDirectory(atPath: p.dir.appendingPathComponent("out").path)).subtracting(before)
        let text = try newDrops.map { try String(contentsOf: p.dir.appendingPathComponent("out/\($0)"), encoding: .utf8) }.joined()
        #expect(text.contains(",remove,rich,\(ann),"), "\(newDrops): \(text)")
        #expect(try count("SELECT COUNT(*) FROM sync_state WHERE customer_id = ?", [ann]) == 0)
    }
}
