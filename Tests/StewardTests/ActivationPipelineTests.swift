import Foundation
import GRDB
import Testing
@testable import StewardActivation
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardIdentity
@testable import StewardPipeline

/// Consent precedence, traits and audience membership through `steward run`: two runs over a small
/// project with a consent-stating CRM, a third-party panel with custom traits, and orders.
@Suite(.serialized) struct ActivationPipelineTests {
    @Test func consentPrecedence() {
        func s(_ granted: Bool, _ at: String?, _ key: String = "r") -> ConsentStatement { ConsentStatement(granted: granted, at: at, source: "s", recordKey: key) }
        // The latest statement wins.
        #expect(ConsentStatement.winner([s(true, "2024-01-01"), s(false, "2024-02-01")])?.granted == false)
        #expect(ConsentStatement.winner([s(false, "2024-01-01"), s(true, "2024-02-01")])?.granted == true)
        // A timestamp orders within a day.
        #expect(ConsentStatement.winner([s(true, "2024-02-01T10:00:00Z"), s(false, "2024-02-01T09:00:00Z")])?.granted == true)
        // At the same time a withdrawal beats a grant, in either order.
        #expect(ConsentStatement.winner([s(true, "2024-02-01"), s(false, "2024-02-01")])?.granted == false)
        #expect(ConsentStatement.winner([s(false, "2024-02-01"), s(true, "2024-02-01")])?.granted == false)
        // An undated withdrawal beats every grant; an undated grant loses to any dated withdrawal.
        #expect(ConsentStatement.winner([s(true, "2030-01-01"), s(false, nil)])?.granted == false)
        #expect(ConsentStatement.winner([s(true, nil), s(false, "2001-01-01")])?.granted == false)
        #expect(ConsentStatement.winner([s(true, nil)])?.granted == true)
        // No statement, no consent.
        #expect(ConsentStatement.winner([]) == nil)
        // One record: a filled withdrawal column after the opt-in withdraws; before it, the grant stands.
        let m = ConsentMapping(channel: "email", granted: "ok", at: "on", withdrawn: "off", line: 1)
        #expect(ConsentStatement.read(["ok": "yes", "on": "2024-01-01", "off": "2024-03-01"], m)! == (false, "2024-03-01"))
        #expect(ConsentStatement.read(["ok": "yes", "on": "2024-01-01", "off": "2023-03-01"], m)! == (true, "2024-01-01"))
        #expect(ConsentStatement.read(["ok": "no", "on": "2024-01-01"], m)! == (false, "2024-01-01"))
        #expect(ConsentStatement.read(["ok": "", "on": "2024-01-01", "off": ""], m) == nil)
        // A withdrawal column saying yes (no date) withdraws at the statement's date.
        #expect(ConsentStatement.read(["ok": "yes", "on": "2024-01-01", "off": "true"], m)! == (false, "2024-01-01"))
    }

    static let yml = """
    name: activation
    default_region: US
    sources:
      - name: crm
        system: crm
        entity: person
        format: csv
        path: people.csv
        key: id
        snapshot: full
        mapping: {first_name: first, last_name: last, email: email, phone: phone, city: city, country: country}
        consent: {channel: email, granted: accepts_marketing, at: opt_in_date, withdrawn: unsubscribed_at}
        traits: {tier: {column: tier, type: text}}
      - name: panel
        system: third_party
        entity: person
        format: csv
        path: panel.csv
        key: pid
        snapshot: full
        mapping: {first_name: first, last_name: last, email: email, phone: phone, city: city, country: country}
        traits: {income: {column: income, type: number}, tier: {column: level, type: text}}
      - name: orders
        system: ecommerce
        entity: transaction
        format: csv
        path: orders.csv
        key: order_id
        mapping: {customer_ref: {source: crm, column: person}, occurred_at: at, amount: total}
    # Eight records are too few for the model to be sure: the panel's exact copies score 0.84.
    matching: {threshold: 0.8, review: [0.5, 0.8]}
    survivorship: {attributes: {tier: source_priority}, source_priority: [crm, panel]}
    team: [alice, bob]
    audiences:
      - name: big_spenders
        description: Spent 100 or more
        where: "revenue >= 100"
        channel: email
        holdout: 50%
        window: 30d
      - name: rich
        where: "income > 70000 and tier in ['gold', 'platinum']"
      - name: lapsed
        where: "last_order_at < 2024-02-01 or orders = 0"
    """

    static let panel = """
    pid,first,last,email,phone,city,country,income,level
    p1,Ann,Lee,ann.lee@example.com,(415) 555-0100,San Francisco,US,82000,gold
    p2,Bob,Ray,bob.ray@example.com,(312) 555-0101,Chicago,US,55000,silver
    p3,Cy,Dunn,cy.dunn@example.com,(206) 555-0102,Seattle,US,91000,gold

    """

    static func people(annUnsubscribed: String = "") -> String {
        """
        id,first,last,email,phone,city,country,accepts_marketing,opt_in_date,unsubscribed_at,tier
        1,Ann,Lee,ann.lee@example.com,(415) 555-0100,San Francisco,US,yes,2024-01-01,\(annUnsubscribed),platinum
        2,Bob,Ray,bob.ray@example.com,(312) 555-0101,Chicago,US,yes,2024-01-02,,
        3,Cy,Dunn,cy.dunn@example.com,(206) 555-0102,Seattle,US,no,2024-01-03,,
        4,Di,Fox,di.fox@example.com,(503) 555-0103,Portland,US,yes,2024-01-04,2023-12-01,
        5,Ed,Gray,ed.gray@example.com,(617) 555-0104,Boston,US,yes,2024-01-05,2024-03-01,

        """
    }

    static let orders = """
    order_id,person,at,total
    o1,1,2024-01-05T10:00:00Z,120.00
    o2,1,2024-02-05T10:00:00Z,80.00
    o3,2,2024-03-01T10:00:00Z,15.00
    o4,4,2024-01-20T10:00:00Z,150.00
    o5,5,2024-03-02T10:00:00Z,300.00

    """

    static func project(vault: Bool = false) -> TempProject {
        let p = TempProject("activation")
        p.write("steward.yml", vault ? yml.replacingOccurrences(of: "default_region: US\n", with: "default_region: US\nprivacy: {vault: true}\n") : yml)
        p.write("people.csv", people())
        p.write("panel.csv", panel)
        p.write("orders.csv", orders)
        return p
    }

    static let now = Date(timeIntervalSince1970: AudienceRule.daySeconds("2024-07-01")!)

    static func run(_ p: TempProject) throws -> RunSummary {
        let config = try p.config()
        return try PipelineRunner(config: config, catalog: try Catalog.open(at: config.catalogURL),
                                  extensions: [IdentityResolution(), CustomerFactsStep(), ActivationStep(now: { now })]).run()
    }

    static func customer(_ p: TempProject, _ source: String, _ key: String) throws -> String {
        try #require(try p.catalog().pool.read {
            try String.fetchOne($0, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?", arguments: [source, key])
        })
    }

    @Test func membershipConsentTraitsAndDiffsAcrossTwoRuns() async throws {
        try await offPool { try Self.membershipConsentTraitsAndDiffsAcrossTwoRunsBody() }
    }

    static func membershipConsentTraitsAndDiffsAcrossTwoRunsBody() throws {
        let p = project()
        #expect(try run(p).status == "success")
        let config = try p.config()
        let catalog = try p.catalog()
        let ann = try customer(p, "crm", "1"), bob = try customer(p, "crm", "2"), cy = try customer(p, "crm", "3")
        let di = try customer(p, "crm", "4"), ed = try customer(p, "crm", "5")
        // The panel's records joined the CRM's customers, so their traits are the customers' traits.
        #expect(try customer(p, "panel", "p1") == ann && customer(p, "panel", "p3") == cy)

        // Consent: Di's withdrawal predates her opt-in; Ed's follows his; Cy said no.
        let consent = try CustomerTraits.load(catalog, ids: [ann, bob, cy, di, ed], config: config, traits: ["consent_email"])
        #expect([ann, bob, cy, di, ed].map { consent[$0]?["consent_email"] } == [.bool(true), .bool(true), .bool(false), .bool(true), .bool(false)])

        // Custom traits: income from the panel; tier by source priority (crm first) where the CRM has one.
        let traits = try CustomerTraits.load(catalog, ids: [ann, bob, cy], config: config)
        #expect(traits[ann]?["income"] == .number(82_000) && traits[ann]?["tier"] == .text("platinum"))
        #expect(traits[bob]?["tier"] == .text("silver") && traits[cy]?["tier"] == .text("gold"))
        #expect(traits[ann]?["revenue"] == .number(200) && traits[ann]?["orders"] == .number(2))
        #expect(traits[ann]?["email"] == .text("ann.lee@example.com"))

        // big_spenders: Ann 200, Di 150 consent; Ed 300 does not (excluded, counted).
        let list = Dictionary(uniqueKeysWithValues: try catalog.audienceList().map { ($0.name, $0) })
        let big = try #require(list["big_spenders"])
        #expect(big.size == 2 && big.excludedNoConsent == 1 && big.entered == 2 && big.left == 0)
        let members = try catalog.audienceMembers("big_spenders")
        #expect(members.map(\.customerId) == [ann, di].sorted())
        // Holdouts follow the hash of audience and customer.
        for m in members { #expect(m.holdout == Holdout.isHeldOut(audience: "big_spenders", customerId: m.customerId, share: 0.5)) }
        #expect(big.holdout == members.filter(\.holdout).count)
        #expect(try catalog.audienceMembers("rich").map(\.customerId) == [ann, cy].sorted())
        // lapsed: Di's last order 2024-01-20; Cy has none. Ann's last order is 2024-02-05.
        #expect(try catalog.audienceMembers("lapsed").map(\.customerId) == [cy, di].sorted())

        // Second run: Ann unsubscribes after her opt-in, Bob orders 500.
        try p.edit("people.csv", replacing: Self.people(), with: Self.people(annUnsubscribed: "2024-06-01"))
        p.write("orders.csv", orders + "o6,2,2024-06-20T10:00:00Z,500.00\n")
        let second = try run(p)
        #expect(second.status == "success")
        let after = try #require(try catalog.audienceList().first { $0.name == "big_spenders" })
        #expect(after.entered == 1 && after.left == 1 && after.size == 2 && after.runId == second.runId)
        #expect(try catalog.audienceMembers("big_spenders").map(\.customerId) == [bob, di].sorted())
        let changes = try catalog.audienceChanges("big_spenders", runId: second.runId)
        #expect(changes.map { "\($0.kind.rawValue):\($0.customerId)" }.sorted() == ["entered:\(bob)", "left:\(ann)"].sorted())
        // Di stayed: her entry is from the first run.
        #expect(try catalog.audienceMembers("big_spenders").first { $0.customerId == di }?.enteredRun == big.runId)
        // Unchanged audiences record no changes; a third run with nothing new changes nothing.
        #expect(try catalog.audienceList().first { $0.name == "rich" }.map { $0.entered + $0.left } == 0)
        // Ann's consent change is audited, without personal data.
        let audits = try catalog.pool.read {
            try String.fetchAll($0, sql: "SELECT detail FROM audit_event WHERE action = 'consent' AND subject = ?", arguments: ["customer:\(ann)"])
        }
        #expect(audits.count == 2 && audits.last?.contains("email: granted → withdrawn") == true)
        #expect(!audits.joined().contains("ann.lee"))
        let third = try run(p)
        #expect(try catalog.audienceRuns("big_spenders").first.map { [$0.runId, Int64($0.entered), Int64($0.left)] } == [third.runId, 0, 0])

        // The 360 shows custom traits, consent and audiences.
        let profile = try catalog.pool.read { try CustomerActivationProfile.load($0, customerId: ann, config: config) }
        #expect(profile.traits.map(\.name) == ["tier", "income"])
        #expect(profile.consent.map { "\($0.channel):\($0.granted.map(String.init) ?? "none")" } == ["email:false"])
        #expect(profile.audiences.map(\.name) == ["rich"])
    }

    @Test func audienceCommandsEndToEnd() async throws {
        try await offPool { try Self.audienceCommandsEndToEndBody() }
    }

    static func audienceCommandsEndToEndBody() throws {
        let p = project()
        let dir = p.dir.path
        #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
        let list = try StewardBinary.run(["audience", "list", "--json", "--project", dir])
        #expect(list.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == ["big_spenders", "rich", "lapsed"])
        let big = try #require(rows.first)
        #expect(big["size"] as? Int == 2 && big["excluded_no_consent"] as? Int == 1 && big["entered"] as? Int == 2 && big["left"] as? Int == 0)
        #expect(big["holdout"] is Int)

        // Members: PII masked, traits typed; --reveal shows the email and is audited.
        let members = try StewardBinary.run(["audience", "members", "rich", "--json", "--project", dir])
        let people = try #require(try JSONSerialization.jsonObject(with: Data(members.stdout.utf8)) as? [[String: Any]])
        #expect(people.count == 2 && people.allSatisfy { $0["holdout"] as? Bool == false })
        #expect(Set(people.compactMap { $0["email"] as? String }) == ["a***@example.com", "c***@example.com"])
        #expect(Set(people.compactMap { $0["income"] as? Int }) == [82_000, 91_000])
        #expect(!members.stdout.contains("ann.lee@example.com"))
        let revealed = try StewardBinary.run(["audience", "members", "rich", "--json", "--reveal", "--project", dir])
        #expect(revealed.stdout.contains("ann.lee@example.com"))
        let catalog = try p.catalog()
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'reveal' AND subject = 'audience:rich'") } == 1)

        // The 360 carries traits (masked where personal), consent per channel and audiences.
        let ann = try customer(p, "crm", "1")
        let show = try StewardBinary.run(["customer", "show", ann, "--json", "--project", dir])
        let c = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        // Typed: a number trait is a JSON number, a text trait a string.
        let traits = try #require(c["traits"] as? [String: Any])
        #expect(traits.count == 2 && traits["income"] as? Int == 82_000 && traits["tier"] as? String == "platinum", "\(traits)")
        #expect(!(traits["income"] is String))
        #expect(((c["consent"] as? [String: Any])?["email"] as? [String: Any])?["granted"] as? Bool == true)
        #expect(((c["audiences"] as? [[String: Any]])?.compactMap { $0["name"] as? String }).map(Set.init) == ["big_spenders", "rich"])
        let text = try StewardBinary.run(["customer", "show", ann, "--project", dir]).stdout
        #expect(text.contains("consent: email granted 2024-01-01") && text.contains("income") && text.contains("← panel:p1"))

        // A bad rule stops every command: exit 2, file, line and column.
        try p.edit("steward.yml", replacing: "where: \"revenue >= 100\"", with: "where: \"segment = 'At risk' and revenu > 100\"")
        let bad = try StewardBinary.run(["audience", "list", "--project", dir])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("steward.yml:") && bad.stderr.contains("audiences.big_spenders.where: column 25: unknown trait 'revenu'; did you mean revenue?"),
                "\(bad.stderr)")
    }

    @Test func demoStatesConsentAndMaterialisesItsAudiences() async throws {
        try await offPool { try Self.demoStatesConsentAndMaterialisesItsAudiencesBody() }
    }

    static func demoStatesConsentAndMaterialisesItsAudiencesBody() throws {
        let p = try IdentityPipelineTests.demo(300, vault: true)
        let config = try p.config()
        #expect(try PipelineRunner(config: config, catalog: try Catalog.open(at: config.catalogURL),
                                   extensions: [IdentityResolution(), CustomerFactsStep(), ActivationStep()]).run().status == "success")
        let catalog = try p.catalog()
        // Statements from both sources, withdrawals among them (the marketing list's unsubscribes, the shop's "no").
        let statements = try catalog.pool.read { try Row.fetchAll($0, sql: "SELECT source, granted, COUNT(*) FROM consent_statement GROUP BY 1, 2 ORDER BY 1, 2") }
        #expect(statements.map { "\($0[0] as String):\($0[1] as Int)" } == ["ecom_customers:0", "ecom_customers:1", "marketing_list:0", "marketing_list:1"])
        // European opt-in dates read through the source's date_formats.
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM consent_statement WHERE source = 'marketing_list' AND at IS NULL") } == 0)
        let consent = try catalog.pool.read { try Row.fetchAll($0, sql: "SELECT granted, COUNT(*) FROM customer_consent GROUP BY 1 ORDER BY 1") }
        #expect(consent.count == 2 && consent.allSatisfy { ($0[1] as Int) > 10 })
        let audiences = try catalog.audienceList()
        #expect(audiences.map(\.name) == ["affluent", "first_order", "high_value", "win_back"])
        #expect(audiences.allSatisfy { $0.size > 0 }, "\(audiences)")
        #expect(audiences.first { $0.name == "win_back" }.map { $0.excludedNoConsent > 0 && $0.holdout > 0 } == true)
    }

    @Test func traitsAndConsentReadFromSealedRawRows() async throws {
        try await offPool { try Self.traitsAndConsentReadFromSealedRawRowsBody() }
    }

    /// With the vault on, a raw row holding PII is sealed whole: traits and consent still come out.
    static func traitsAndConsentReadFromSealedRawRowsBody() throws {
        let p = project(vault: true)
        #expect(try run(p).status == "success")
        let catalog = try p.catalog()
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM raw_record WHERE data LIKE '%ann.lee%'") } == 0)
        let ann = try customer(p, "crm", "1"), ed = try customer(p, "crm", "5")
        let traits = try CustomerTraits.load(catalog, ids: [ann, ed], config: try p.config(), traits: ["income", "tier", "consent_email", "email"])
        #expect(traits[ann]?["income"] == .number(82_000) && traits[ann]?["tier"] == .text("platinum"))
        #expect(traits[ann]?["consent_email"] == .bool(true) && traits[ed]?["consent_email"] == .bool(false))
        // Golden PII comes back opened for the caller to mask.
        #expect(traits[ann]?["email"] == .text("ann.lee@example.com"))
        #expect(try catalog.audienceMembers("big_spenders").count == 2)
    }

    @Test func configRulesAreCheckedAtLoad() throws {
        let p = TempProject("activation-config")
        func load(_ yml: String) -> ConfigError? {
            p.write("steward.yml", yml)
            do { _ = try ConfigLoader.load(p.ymlURL); return nil } catch let e as ConfigError { return e } catch { return nil }
        }
        let lines = Self.yml.components(separatedBy: "\n")
        let whereLine = lines.firstIndex { $0.contains("income > 70000") }! + 1
        let unknown = try #require(load(Self.yml.replacingOccurrences(of: "income > 70000", with: "incom > 70000")))
        #expect(unknown.line == whereLine && unknown.key == "audiences.rich.where")
        #expect(unknown.message.contains("column 1: unknown trait 'incom'") && unknown.message.contains("income"))
        #expect(unknown.description.hasPrefix("\(p.ymlURL.path):\(whereLine): audiences.rich.where: column 1"))
        let typed = try #require(load(Self.yml.replacingOccurrences(of: "tier in ['gold', 'platinum']", with: "tier in ['gold', 3]")))
        #expect(typed.line == whereLine && typed.message.contains("column 20") && typed.message.contains("text trait, compared with a number"))
        let channel = try #require(load(Self.yml.replacingOccurrences(of: "    channel: email\n", with: "    channel: sms\n")))
        #expect(channel.key == "audiences.big_spenders.channel" && channel.message.contains("email"))
        let holdout = try #require(load(Self.yml.replacingOccurrences(of: "holdout: 50%", with: "holdout: 150%")))
        #expect(holdout.key == "audiences.big_spenders.holdout")
        let builtIn = try #require(load(Self.yml.replacingOccurrences(of: "traits: {tier: {column: tier, type: text}}", with: "traits: {orders: n}")))
        #expect(builtIn.key == "sources.crm.traits.orders" && builtIn.message.contains("built-in"))
        let badType = try #require(load(Self.yml.replacingOccurrences(of: "{column: tier, type: text}", with: "{column: tier, type: money}")))
        #expect(badType.key == "sources.crm.traits.tier.type")
        let team = try #require(load(Self.yml.replacingOccurrences(of: "team: [alice, bob]", with: "team: -3")))
        #expect(team.key == "team")
        let config = try ConfigLoader.load({ p.write("steward.yml", Self.yml); return p.ymlURL }())
        #expect(config.team == TeamConfig(size: 2, members: ["alice", "bob"]))
        #expect(config.audiences.map(\.name) == ["big_spenders", "rich", "lapsed"])
        #expect(config.audiences[0].holdout == 0.5 && config.audiences[0].window == 30 * 86_400)
    }
}
