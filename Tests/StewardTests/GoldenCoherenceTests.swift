import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardIdentity
@testable import StewardPipeline

/// A golden address is one record's address (street, city, postcode, region and country together,
/// a part that record lacks only from a record of the same address), and a golden name one record's
/// name when it was entered whole: never the most common city of one record beside the most common
/// postcode of another.
@Suite struct GoldenCoherenceTests {
    typealias V = Survivorship.SourceValues
    static let addressParts = Survivorship.AttributeGroup.address

    /// The records behind a golden record's address parts.
    static func addressRecords(_ provenance: [String: String]) -> Set<String> {
        Set(addressParts.compactMap { provenance[$0] })
    }

    /// Whether records (their address parts) hold one address: with a street, all the same street;
    /// and no part on which two of them disagree. Spelling as `steward` compares it: street types
    /// abbreviated, case and accents folded.
    static func oneAddress(_ records: [[String: String]]) -> Bool {
        func key(_ part: String, _ v: String) -> String { part == "street" ? AddressDimension.normalisedStreet(v) : TextKey.key(v) }
        if records.contains(where: { $0["street"] != nil }) && records.contains(where: { $0["street"] == nil }) { return false }
        for part in addressParts {
            let values = Set(records.compactMap { r in r[part].map { key(part, $0) } })
            if values.count > 1 { return false }
        }
        return true
    }

    /// Checks a golden address against the records it names: one address, each value its record's.
    static func check(_ g: (values: [String: String], provenance: [String: String]), _ records: [V], _ label: String) {
        let behind = addressRecords(g.provenance)
        let named = records.filter { behind.contains("\($0.source):\($0.key)") }
        #expect(oneAddress(named.map(\.values)), "\(label): address parts from \(behind.sorted())")
        for part in addressParts {
            let record = records.first { "\($0.source):\($0.key)" == g.provenance[part] }
            #expect(g.values[part] == record?.values[part], "\(label) \(part)")
        }
    }

    /// A person who moved: the most common city (Springfield, records 1 and 2) and the most common
    /// postcode (33333, records 3, 4 and 5) belong to different records.
    static let moved = [
        V(source: "crm", key: "1", system: "crm", updatedRun: 1,
          values: ["street": "1 Oak St", "city": "Springfield", "postcode": "11111", "region": "IL", "country": "US"]),
        V(source: "crm", key: "2", system: "crm", updatedRun: 2,
          values: ["street": "2 Elm St", "city": "Springfield", "postcode": "22222", "country": "US"]),
        V(source: "shop", key: "3", system: "shop", updatedRun: 3,
          values: ["street": "3 Pine St", "city": "Shelbyville", "postcode": "33333", "country": "US"]),
        V(source: "shop", key: "4", system: "shop", updatedRun: 4,
          values: ["street": "3 Pine Street", "city": "Capital City", "postcode": "33333"]),
        V(source: "list", key: "5", system: "marketing", updatedRun: 5, values: ["postcode": "33333", "country": "US"]),
    ]

    @Test func theCaseIsAdversarial() {
        // Chosen one by one (as before), city and postcode come from different records.
        let chooser = Survivorship.Chooser(Survivorship(config: SurvivorshipConfig(), primarySystem: "crm"))
        var scratch = Survivorship.Chooser.Scratch()
        let city = chooser.winner(of: Survivorship.attributeIndex["city"]!, Self.moved, &scratch)
        let postcode = chooser.winner(of: Survivorship.attributeIndex["postcode"]!, Self.moved, &scratch)
        #expect(Self.moved[city].values["city"] == "Springfield")
        #expect(Self.moved[postcode].values["postcode"] == "33333")
        #expect(city != postcode)
    }

    @Test func everyRuleTakesTheWholeAddressFromOneRecord() {
        for rule in SurvivorshipRule.allCases {
            for priority in [[], ["list", "shop", "crm"], ["crm", "shop"]] {
                let g = Survivorship(config: SurvivorshipConfig(defaultRule: rule, sourcePriority: priority), primarySystem: "crm")
                    .golden(Self.moved)
                let behind = Self.addressRecords(g.provenance)
                // No two of these records share an address: one record behind the whole address.
                #expect(behind.count == 1, "\(rule) \(priority): address parts from \(behind.sorted())")
                // The values are that record's values, and a part it lacks stays empty.
                let record = Self.moved.first { "\($0.source):\($0.key)" == behind.first }!
                for part in Self.addressParts { #expect(g.values[part] == record.values[part], "\(rule) \(part)") }
            }
        }
        // Most frequent: the address most records agree with (the Pine Street postcode three records share).
        let frequent = Survivorship(config: SurvivorshipConfig(), primarySystem: "crm").golden(Self.moved)
        #expect(frequent.values["postcode"] == "33333")
        #expect(["shop:3", "shop:4"].contains(frequent.provenance["city"] ?? ""))
        // Most recent: the newest record with a street, not the postcode-only record after it.
        let recent = Survivorship(config: SurvivorshipConfig(defaultRule: .mostRecent), primarySystem: "crm").golden(Self.moved)
        #expect(recent.provenance["street"] == "shop:4" && recent.values["country"] == nil)
        // A rule set on one part is the whole address's rule.
        let byCity = Survivorship(config: SurvivorshipConfig(sourcePriority: ["crm"], attributes: ["city": .sourcePriority]),
                                  primarySystem: "crm").golden(Self.moved)
        #expect(byCity.values["city"] == "Springfield" && ["crm:1", "crm:2"].contains(byCity.provenance["postcode"] ?? ""))
    }

    /// A part the chosen record lacks comes from a record of the same street that disagrees on
    /// nothing: the CRM record's region beside the shop record's country, not a third record's.
    @Test func aMissingPartComesOnlyFromTheSameAddress() {
        let records = [
            V(source: "crm", key: "1", system: "crm", updatedRun: 1,
              values: ["street": "12 Main Street", "city": "Chicago", "postcode": "60650", "region": "IL"]),
            V(source: "shop", key: "2", system: "shop", updatedRun: 2,
              values: ["street": "12 Main St.", "city": "Chicago", "postcode": "60650", "country": "US"]),
            V(source: "shop", key: "3", system: "shop", updatedRun: 3,
              values: ["street": "12 Main St", "city": "Chicago", "postcode": "60651", "country": "CA"]),
        ]
        for rule in SurvivorshipRule.allCases {
            let g = Survivorship(config: SurvivorshipConfig(defaultRule: rule), primarySystem: "crm").golden(records)
            Self.check(g, records, "\(rule)")
        }
        let g = Survivorship(config: SurvivorshipConfig(), primarySystem: "crm").golden(records)
        #expect(g.provenance["street"] == "crm:1" && g.values["region"] == "IL")
        #expect(g.values["country"] == "US" && g.provenance["country"] == "shop:2")
        // Newest first: shop 3's address; crm 1 disagrees on its postcode, so no region.
        let recent = Survivorship(config: SurvivorshipConfig(defaultRule: .mostRecent), primarySystem: "crm").golden(records)
        #expect(recent.values["postcode"] == "60651" && recent.values["country"] == "CA" && recent.values["region"] == nil)
    }

    @Test func namesEnteredWholeStayTogether() {
        let records = [
            V(source: "a", key: "1", system: "crm", updatedRun: 1, values: ["first_name": "Ann", "last_name": "Lee"]),
            V(source: "b", key: "2", system: "shop", updatedRun: 2, values: ["first_name": "Ann", "last_name": "Leigh"]),
            V(source: "c", key: "3", system: "web", updatedRun: 3, values: ["first_name": "Anna", "last_name": "Leigh"]),
            V(source: "d", key: "4", system: "web", updatedRun: 4, values: ["first_name": "Anna"]),
        ]
        for rule in SurvivorshipRule.allCases {
            let g = Survivorship(config: SurvivorshipConfig(defaultRule: rule), primarySystem: "crm").golden(records)
            #expect(g.provenance["first_name"] == g.provenance["last_name"], "\(rule)")
        }
        // No record holds both names: each is chosen on its own.
        let apart = [
            V(source: "a", key: "1", system: "crm", updatedRun: 1, values: ["first_name": "Ann"]),
            V(source: "b", key: "2", system: "shop", updatedRun: 2, values: ["last_name": "Lee"]),
        ]
        let g = Survivorship(config: SurvivorshipConfig(), primarySystem: "crm").golden(apart)
        #expect(g.values["first_name"] == "Ann" && g.values["last_name"] == "Lee")
    }

    /// Seeded random customers whose records draw each address part from small pools (so parts
    /// agree across records in every combination): no rule ever mixes two records' addresses.
    @Test func randomCustomersNeverMixAddresses() {
        var rng = SplitMix(seed: 17)
        let streets = ["1 Oak St", "1 Oak Street", "2 Elm St", "3 Pine Rd"], cities = ["Springfield", "Shelbyville", "Ogdenville"]
        let postcodes = ["11111", "22222", "33333"], regions = ["IL", "OH"], countries = ["US", "CA"]
        let sources = ["crm", "shop", "list"]
        func pick(_ pool: [String]) -> String? { rng.next() % 4 == 0 ? nil : pool[Int(rng.next() % UInt64(pool.count))] }
        var mixed = 0, customers = 0
        for _ in 0..<400 {
            var records: [V] = []
            for k in 0..<(2 + Int(rng.next() % 5)) {
                var values: [String: String] = [:]
                for (part, pool) in zip(Self.addressParts, [streets, cities, postcodes, regions, countries]) { values[part] = pick(pool) }
                let source = sources[Int(rng.next() % 3)]
                records.append(V(source: source, key: "\(k)", system: source, updatedRun: Int64(rng.next() % 4), values: values))
            }
            for rule in SurvivorshipRule.allCases {
                let g = Survivorship(config: SurvivorshipConfig(defaultRule: rule), primarySystem: "crm").golden(records)
                customers += 1
                let behind = Self.addressRecords(g.provenance)
                if !Self.oneAddress(records.filter { behind.contains("\($0.source):\($0.key)") }.map(\.values)) { mixed += 1; continue }
                Self.check(g, records, "\(rule)")
                // With a street anywhere, the golden address has one.
                if records.contains(where: { $0.values["street"] != nil }) { #expect(g.values["street"] != nil) }
            }
        }
        #expect(customers == 1_600)
        #expect(mixed == 0)
    }

    /// The demo end to end: every golden address is one staged record's address, value for value.
    @Test func demoGoldenAddressesComeFromOneRecord() async throws {
        try await offPool { try Self.demoBody() }
    }

    static func demoBody() throws {
        let p = try IdentityPipelineTests.demo(300)
        #expect(try IdentityPipelineTests.run(p).status == "success")
        let catalog = try p.catalog()
        let (checked, mixed, wrong, multiRecord) = try catalog.pool.read { db -> (Int, Int, Int, Int) in
            var staged: [String: [String: String]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT source || ':' || record_key AS id, street, city, postcode, region, country FROM staged_person WHERE is_deleted = 0") {
                var values: [String: String] = [:]
                for part in addressParts { values[part] = r[part] }
                staged[r["id"]] = values
            }
            let members = try Dictionary(grouping: Row.fetchAll(db, sql: "SELECT customer_id FROM identity_member"), by: { $0[0] as String })
            var checked = 0, mixed = 0, wrong = 0, multi = 0
            for r in try Row.fetchAll(db, sql: "SELECT customer_id, street, city, postcode, region, country, provenance_json FROM golden_customer") {
                let provenance = try JSONSerialization.jsonObject(with: Data((r["provenance_json"] as String).utf8)) as! [String: String]
                let behind = addressRecords(provenance)
                guard !behind.isEmpty else { continue }
                checked += 1
                if (members[r["customer_id"] as String]?.count ?? 0) > 1 { multi += 1 }
                if !oneAddress(behind.map { staged[$0] ?? [:] }) { mixed += 1; continue }
                for part in addressParts where (r[part] as String?) != provenance[part].flatMap({ staged[$0]?[part] }) { wrong += 1 }
            }
            return (checked, mixed, wrong, multi)
        }
        #expect(checked > 300 && multiRecord > 100, "\(checked) golden addresses, \(multiRecord) of customers with several records")
        #expect(mixed == 0, "\(mixed) golden addresses mix records")
        #expect(wrong == 0, "\(wrong) golden address parts differ from the record their provenance names")
    }
}
