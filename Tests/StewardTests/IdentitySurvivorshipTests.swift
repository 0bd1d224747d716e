import Foundation
import Testing
import GRDB
@testable import StewardCatalog
@testable import StewardIdentity
@testable import StewardPipeline
@testable import StewardConfig

/// Per-attribute survivorship: each rule picks its value and names the record behind it, and the
/// `survivorship:` section of steward.yml loads with file/line/key errors.
@Suite struct IdentitySurvivorshipTests {
    typealias V = Survivorship.SourceValues

    /// Three records of one person that disagree on every rule's favourite.
    static let records = [
        // crm: primary system, older, sparse.
        V(source: "crm_contacts", key: "c1", system: "crm", updatedRun: 1,
          values: ["email": "old@crm.example", "phone": "+15550000001", "city": "Springfield"]),
        // ecommerce: the newest record.
        V(source: "ecom_customers", key: "e1", system: "ecommerce", updatedRun: 5,
          values: ["email": "new@shop.example", "phone": "+15550000002", "city": "Shelbyville"]),
        // marketing: the most complete record; its email agrees with support's.
        V(source: "marketing_list", key: "m1", system: "marketing", updatedRun: 3,
          values: ["email": "same@mail.example", "phone": "+15550000003", "city": "Capital City", "first_name": "Ann",
                   "last_name": "Lee", "postcode": "12345"]),
        V(source: "support_people", key: "s1", system: "support", updatedRun: 2, values: ["email": "SAME@mail.example"]),
    ]

    func golden(_ config: SurvivorshipConfig) -> (values: [String: String], provenance: [String: String]) {
        Survivorship(config: config, primarySystem: "crm").golden(Self.records)
    }

    @Test func eachRulePicksItsValueAndKeepsTheRecordBehindIt() {
        let frequent = golden(SurvivorshipConfig(defaultRule: .mostFrequent))
        #expect(frequent.values["email"] == "same@mail.example" || frequent.values["email"] == "SAME@mail.example")
        #expect(["marketing_list:m1", "support_people:s1"].contains(frequent.provenance["email"] ?? ""))
        // A tie on frequency (one record each) goes to the primary system.
        #expect(frequent.provenance["phone"] == "crm_contacts:c1")

        let recent = golden(SurvivorshipConfig(defaultRule: .mostRecent))
        #expect(recent.values["email"] == "new@shop.example")
        #expect(recent.provenance["email"] == "ecom_customers:e1")

        let complete = golden(SurvivorshipConfig(defaultRule: .mostComplete))
        #expect(complete.values["city"] == "Capital City")
        #expect(complete.provenance["city"] == "marketing_list:m1")

        // Source priority: the primary system first without a list, the list's order with one.
        let primary = golden(SurvivorshipConfig(defaultRule: .sourcePriority))
        #expect(primary.values["email"] == "old@crm.example")
        let listed = golden(SurvivorshipConfig(defaultRule: .sourcePriority, sourcePriority: ["ecom_customers", "crm_contacts"]))
        #expect(listed.values["email"] == "new@shop.example")
        #expect(listed.provenance["email"] == "ecom_customers:e1")
        // A value only one record has comes from that record whatever the rule.
        #expect(listed.provenance["first_name"] == "marketing_list:m1")
        // …but an address's parts come from one record: the ecommerce city, not marketing's postcode with it.
        #expect(listed.provenance["city"] == "ecom_customers:e1" && listed.values["postcode"] == nil)
    }

    @Test func attributesFollowTheirOwnRule() {
        let g = golden(SurvivorshipConfig(defaultRule: .mostComplete, sourcePriority: ["crm_contacts"],
                                          attributes: ["email": .mostRecent, "phone": .sourcePriority]))
        #expect(g.provenance["email"] == "ecom_customers:e1")
        #expect(g.provenance["phone"] == "crm_contacts:c1")
        #expect(g.provenance["city"] == "marketing_list:m1")
        #expect(g.provenance.count == g.values.count)
    }

    // MARK: steward.yml

    static let base = """
    name: t
    sources:
      - name: a
        system: crm
        entity: person
        format: csv
        path: a.csv
        key: id
        mapping: {first_name: name}
      - name: b
        system: ecommerce
        entity: person
        format: csv
        path: a.csv
        key: id
        mapping: {first_name: name}

    """

    func load(_ yml: String) throws -> ProjectConfig {
        let p = TempProject("surv")
        p.write("a.csv", "id,name\n1,x\n")
        p.write("steward.yml", yml)
        return try p.config()
    }

    func error(_ yml: String) -> ConfigError? {
        do { _ = try load(yml); return nil } catch let e as ConfigError { return e } catch { return nil }
    }

    @Test func sectionLoads() throws {
        let c = try load(Self.base + """
        survivorship:
          default: most_complete
          source_priority: [b, a]
          attributes: {email: most_recent, phone: source_priority}

        """)
        #expect(c.survivorship == SurvivorshipConfig(defaultRule: .mostComplete, sourcePriority: ["b", "a"],
                                                     attributes: ["email": .mostRecent, "phone": .sourcePriority]))
        #expect(c.survivorship.rule(for: "city") == .mostComplete)
        // The older spelling still works, as the default rule.
        let old = try load(Self.base + "matching: {survivorship: most_recent}\n")
        #expect(old.survivorship.defaultRule == .mostRecent)
        #expect(try load(Self.base).survivorship == SurvivorshipConfig())
    }

    @Test func mistakesNameLineAndKey() {
        let rule = error(Self.base + "survivorship:\n  default: newest\n")
        #expect(rule?.key == "survivorship.default")
        #expect(rule?.line == 18)
        #expect(rule?.message.contains("expected one of most_frequent") == true)
        let attribute = error(Self.base + "survivorship:\n  attributes:\n    emial: most_recent\n")
        #expect(attribute?.key == "survivorship.attributes.emial")
        #expect(attribute?.line == 19)
        let source = error(Self.base + "survivorship:\n  source_priority: [a, crm]\n")
        #expect(source?.key == "survivorship.source_priority")
        #expect(source?.message.contains("'crm' is not a person source") == true)
        let unknown = error(Self.base + "survivorship:\n  rules: {}\n")
        #expect(unknown?.key == "survivorship.rules")
        let both = error(Self.base + "survivorship: {default: most_recent}\nmatching: {survivorship: most_recent}\n")
        #expect(both?.key == "matching.survivorship")
    }
}

/// The `survivorship:` section drives the golden records of a real run, and changing it re-runs them.
@Suite(.serialized) struct IdentitySurvivorshipPipelineTests {
    static func yml(_ priority: String) -> String {
        """
        name: t
        sources:
          - {name: a, system: crm, entity: person, format: csv, path: a.csv, key: id,
             mapping: {first_name: first, last_name: last, email: email, phone: phone}}
          - {name: b, system: shop, entity: person, format: csv, path: b.csv, key: id,
             mapping: {first_name: first, last_name: last, email: email, phone: phone}}
        survivorship:
          default: most_frequent
          source_priority: [\(priority)]
          attributes: {phone: source_priority}

        """
    }

    @Test func goldenValuesFollowTheConfiguredPriority() async throws {
        try await offPool { try Self.body() }
    }

    static func body() throws {
        let p = TempProject("surv-run")
        p.write("a.csv", "id,first,last,email,phone\n1,Ann,Lee,ann@example.com,+1 212 555 0101\n")
        p.write("b.csv", "id,first,last,email,phone\n9,Ann,Lee,ann@example.com,+1 212 555 0199\n")
        p.write("steward.yml", yml("b, a"))
        let run = { () throws -> Void in
            let config = try p.config()
            _ = try PipelineRunner(config: config, catalog: try Catalog.open(at: config.catalogURL), extensions: [IdentityResolution()]).run()
        }
        try run()
        let catalog = try p.catalog()
        // One person whatever the model makes of two records: a steward's decision.
        try catalog.pool.write { try ReviewQueue.decide($0, "a:1", "b:9", accept: true) }
        try run()
        let golden = { () throws -> (phone: String?, provenance: String?) in
            try catalog.pool.read { db in
                let r = try Row.fetchOne(db, sql: "SELECT phone, provenance_json FROM golden_customer")
                return (r?[0], r?[1])
            }
        }
        var g = try golden()
        #expect(g.phone == "+12125550199")
        #expect(g.provenance?.contains("\"phone\":\"b:9\"") == true)
        p.write("steward.yml", yml("a, b"))
        try run()
        g = try golden()
        #expect(g.phone == "+12125550101")
        #expect(g.provenance?.contains("\"phone\":\"a:1\"") == true)
    }
}
