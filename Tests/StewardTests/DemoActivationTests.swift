import Foundation
import GRDB
import Testing
@testable import steward
@testable import StewardActivation
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardDemo
@testable import StewardPipeline

/// The demo's activation as a new user meets it (issue 20), through the real binary: `steward init
/// --demo` then `steward run`. The first run plants the campaign as the bundled demo does; the data
/// vendor's household attributes are typed traits of the right customers and feed an audience; the
/// demo's file destination receives its audiences, and each audience's share of a sync is recorded.
@Suite(.serialized) struct DemoActivationTests {
    static let customers = 400, seed: UInt64 = 7

    /// `init --demo` and one `steward run`, once for the suite.
    static let demo: Result<(TempProject, StewardBinary.Result, StewardBinary.Result), any Error> = Result {
        let p = TempProject("demo-activation")
        let made = try StewardBinary.run(["init", p.dir.path, "--demo", "--customers", "\(customers)", "--seed", "\(seed)"])
        let ran = try StewardBinary.run(["run", "--project", p.dir.path])
        return (p, made, ran)
    }

    /// How many runs a `steward run` printed ("Run 2: success").
    static func runs(_ r: StewardBinary.Result) -> Int { r.stdout.split(separator: "\n").filter { $0.hasPrefix("Run ") }.count }

    /// The vendor's records by key → the person (0-based index) truth.csv says each belongs to.
    static func vendorTruth(_ p: TempProject) throws -> [String: Int] {
        var out: [String: Int] = [:]
        let text = try String(contentsOf: p.dir.appendingPathComponent("truth.csv"), encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasPrefix(DemoVendor.sourceName + ",") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 3, !f[1].isEmpty, let n = Int(f[2].dropFirst()) else { continue }
            out[String(f[1])] = n - 1
        }
        return out
    }

    /// Per customer holding vendor records: the incomes the generator gave those records' people.
    static func trueIncomes(_ p: TempProject, _ catalog: Catalog) throws -> (byCustomer: [String: Set<Int>], vendorRecords: Int) {
        let truth = try vendorTruth(p)
        let members = try catalog.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT record_key, customer_id FROM identity_member WHERE source = ?", arguments: [DemoVendor.sourceName])
                .map { ($0[0] as String, $0[1] as String) }
        }
        var out: [String: Set<Int>] = [:]
        for (key, customer) in members {
            let person = try #require(truth[key], "vendor record \(key) is not in truth.csv")
            let income = DemoVendor.attributes(person: person, seed: seed).income
            out[customer, default: []].formUnion(income.map { [$0] } ?? [])
        }
        return (out, members.count)
    }

    @Test func initDemoPlantsTheCampaignAtItsFirstRun() throws {
        let (p, made, ran) = try Self.demo.get()
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("first `steward run` runs twice"), "\(made.stdout)")
        // 1: the demo's deliberately bad rows fail error checks.
        #expect(ran.status == 1, "\(ran.stderr)")
        #expect(Self.runs(ran) == 2, "two runs: \(ran.stdout)")
        // The same campaign as the bundled demo's: the truth file, the planted orders, and a lift measured on them.
        let truthURL = p.dir.appendingPathComponent(DemoLift.truthFile)
        let truth = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: truthURL)) as? [String: Any])
        #expect(truth["true_lift"] as? Double == DemoCampaign.trueLift && truth["audience"] as? String == DemoCampaign.audience)
        let orders = try String(contentsOf: p.dir.appendingPathComponent("sources/ecommerce/orders.csv"), encoding: .utf8)
        let planted = orders.split(separator: "\n").filter { $0.hasPrefix("CMP") }.count
        #expect(planted == truth["orders"] as? Int && planted > 0)
        let catalog = try p.catalog()
        #expect(try catalog.runs().count == 2)
        let lift = try #require(try catalog.pool.read { try Catalog.storedLifts($0) }[DemoCampaign.audience])
        #expect(lift.treated > 0 && lift.treatedConverted > 0, "\(lift)")
        // The same orders as the engine's path draws for the same entrants (one code path).
        let entrants = try AudienceLift.entrants(catalog, audience: DemoCampaign.audience, keysIn: "ecom_customers")
        let again = DemoCampaign.responses(members: entrants.filter { $0.enteredAt <= DemoCampaign.enteredAt }.map {
            DemoCampaign.Member(customerId: $0.customerId, holdout: $0.holdout, enteredAt: $0.enteredAt, shopCustomerKey: $0.recordKey)
        }, seed: Self.seed)
        #expect(orders.hasSuffix(again.rows))
        // A second `steward run` is an ordinary run: nothing planted twice.
        let rerun = try StewardBinary.run(["run", "--project", p.dir.path])
        #expect(Self.runs(rerun) == 1, "\(rerun.stdout)")
        let after = try String(contentsOf: p.dir.appendingPathComponent("sources/ecommerce/orders.csv"), encoding: .utf8)
        #expect(after == orders)
    }

    @Test func vendorTraitsAreTypedOnTheRightCustomersAndFeedAnAudience() throws {
        let (p, _, _) = try Self.demo.get()
        let config = try p.config()
        let catalog = try p.catalog()
        #expect(CustomerTraits.types(config)["income"] == .number && CustomerTraits.types(config)["household_size"] == .number)
        let (truth, vendorRecords) = try Self.trueIncomes(p, catalog)
        #expect(vendorRecords > Self.customers / 10, "the vendor matched a share of the customers: \(vendorRecords)")

        // Each customer's income is the one the generator gave the person behind its vendor record;
        // customers without a vendor record have none.
        let table = try catalog.pool.read { try CustomerTraits.table($0, traits: ["income"], config: config) }
        var checked = 0, ambiguous = 0
        for (row, id) in table.ids.enumerated() {
            let value = table.value("income", at: row)
            let expected = truth[id] ?? []
            if expected.count > 1 { ambiguous += 1; continue }
            if let income = expected.first {
                #expect(value == .number(Double(income)), "\(id): \(String(describing: value)) vs true \(income)")
                checked += 1
            } else {
                #expect(value == nil, "\(id) has no vendor income but shows \(String(describing: value))")
            }
        }
        #expect(checked > 50 && ambiguous <= checked / 50, "checked \(checked), two vendor people in one customer: \(ambiguous)")

        // The vendor's records joined the people they describe: each sits with another record of its person.
        let vendorTruth = try Self.vendorTruth(p)
        let allTruth = try String(contentsOf: p.dir.appendingPathComponent("truth.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .reduce(into: [String: String]()) { out, line in
                let f = line.split(separator: ",", omittingEmptySubsequences: false)
                if f.count == 3 { out["\(f[0]):\(f[1])"] = String(f[2]) }
            }
        let coMembers = try catalog.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT v.record_key, m.source || ':' || m.record_key FROM identity_member v
                LEFT JOIN identity_member m ON m.customer_id = v.customer_id AND m.source <> v.source
                WHERE v.source = ?
                """, arguments: [DemoVendor.sourceName]).map { ($0[0] as String, $0[1] as String?) }
        }
        var joined = Set<String>(), records = Set<String>()
        for (key, other) in coMembers {
            records.insert(key)
            let person = vendorTruth[key].map { String(format: "P%07d", $0 + 1) }
            if let other, person != nil, allTruth[other] == person { joined.insert(key) }
        }
        // Measured at 400 people, seed 7: 133 of 134 (122 customers with one vendor income, none with two;
        // 32 in affluent).
        #expect(Double(joined.count) >= 0.95 * Double(records.count), "vendor records with their own person: \(joined.count) of \(records.count)")

        // The audience over the vendor's trait holds exactly the customers whose true income is at least 100,000.
        let expectedAffluent = Set(truth.filter { $0.value.count == 1 && $0.value.first! >= 100_000 }.keys)
        let members = Set(try catalog.audienceMembers("affluent").map(\.customerId))
        let ambiguousIds = Set(truth.filter { $0.value.count > 1 }.keys)
        #expect(members.subtracting(ambiguousIds) == expectedAffluent, "affluent vs the generator's truth")
        #expect(expectedAffluent.count > 10)

        // The 360 shows the trait as a JSON number, with the vendor record it came from.
        let someone = try #require(expectedAffluent.sorted().first)
        let shown = try StewardBinary.run(["customer", "show", someone, "--json", "--project", p.dir.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let traits = try #require(body["traits"] as? [String: Any])
        #expect(traits["income"] as? Int == truth[someone]?.first, "\(traits)")
        #expect(traits["income"] is NSNumber && traits["interest"] is String)
        #expect((body["trait_provenance"] as? [String: String])?["income"]?.hasPrefix("\(DemoVendor.sourceName):") == true)
        #expect(((body["audiences"] as? [[String: Any]]) ?? []).contains { $0["name"] as? String == "affluent" })
    }

    @Test func theDemosFileDestinationReceivesItsAudiences() throws {
        let (p, _, _) = try Self.demo.get()
        let catalog = try p.catalog()
        let status = try StewardBinary.run(["sync", "status", "--json", "--project", p.dir.path])
        #expect(status.status == 0, "\(status.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        let drop = try #require(rows.first { $0["destination"] as? String == "email_platform" }, "\(status.stdout)")
        #expect(drop["status"] as? String == "ok" && drop["type"] as? String == "file")
        #expect(drop["audiences"] as? [String] == ["win_back", "affluent"])

        // What the destination holds is each audience's members less its holdout (mirror mode).
        for audience in ["win_back", "affluent"] {
            let treated = try catalog.audienceMembers(audience).filter { !$0.holdout }.count
            let held: Int = try p.scalar("SELECT COUNT(*) FROM sync_state WHERE destination = 'email_platform' AND audience = '\(audience)'") ?? -1
            #expect(held == treated && treated > 0, "\(audience): held \(held), treated members \(treated)")
            // Per-audience counts of every sync add up to what it holds; each sync's shares add up to its totals.
            let net: Int = try p.scalar("""
                SELECT SUM(a.adds - a.removes) FROM sync_run_audience a JOIN sync_run r ON r.id = a.sync_run_id
                WHERE r.destination = 'email_platform' AND a.audience = '\(audience)'
                """) ?? -1
            #expect(net == held, "\(audience): net adds \(net), held \(held)")
        }
        let syncs = try catalog.syncHistory(destination: "email_platform")
        #expect(syncs.count >= 2 && syncs.allSatisfy { $0.status == "ok" })
        for sync in syncs {
            let shares = try catalog.pool.read { try Catalog.audienceSyncs($0, [sync], audience: "win_back") + Catalog.audienceSyncs($0, [sync], audience: "affluent") }
            let sent = shares.compactMap(\.sent)
            #expect(sent.count == 2, "sync \(sync.id) records both audiences, zeros included")
            #expect(sent.reduce(0) { $0 + $1.adds } == sync.adds && sent.reduce(0) { $0 + $1.updates } == sync.updates
                    && sent.reduce(0) { $0 + $1.removes } == sync.removes, "sync \(sync.id): \(sent) vs \(sync)")
        }

        // The drops sit inside the project, private, emails masked (the destination is not `pii: true`).
        let out = p.dir.appendingPathComponent("out")
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("email_platform.") }.sorted()
        let first = try #require(files.first)
        let attributes = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent(first).path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let text = try String(contentsOf: out.appendingPathComponent(first), encoding: .utf8)
        #expect(text.hasPrefix("batch_id,op,audience,customer_id,first_name,email,segment,income\n"), "\(text.prefix(200))")
        #expect(text.contains("***@") && text.contains(",add,win_back,") && text.contains(",add,affluent,"))
    }
}
