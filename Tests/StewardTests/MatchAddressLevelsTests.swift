import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardDemo
@testable import StewardIdentity
@testable import StewardPipeline

/// Family 5 of the match suite at 30 people, staged (and matched when asked) with default settings.
func smallMultiSourceProject(matched: Bool) throws -> (TempProject, (name: String, sources: [String: [SuiteRecord]], people: [SuitePerson]), Catalog) {
    let families = MatchFamilies(seed: 42, scale: 0.01)
    let family = try #require(families.family(5))
    let p = TempProject("levels")
    try families.write(family.sources, name: family.name, to: p.dir)
    let config = try p.config()
    let catalog = try Catalog.open(at: config.catalogURL)
    let runner = PipelineRunner(config: config, catalog: catalog, extensions: matched ? [IdentityResolution()] : [])
    #expect(try runner.run().status == "success")
    return (p, family, catalog)
}

/// The address comparison's levels (issue 17, family 5's misses): a postcode one keystroke off is a
/// level of its own, not "same city", and the region tells namesakes apart where nothing finer is
/// compared. Models stored with the older levels are never read as today's.
@Suite struct MatchAddressLevelsTests {
    typealias Level = Field.AddressLevel

    static func person(_ key: String, street: String? = nil, city: String? = nil, postcode: String? = nil,
                       region: String? = nil) -> PersonRecord {
        PersonRecord(source: "s", key: key, firstName: "gregory", lastName: "lewis", street: street, city: city, postcode: postcode,
                     region: region, nicknames: PlaceholderRuleTests.nicknames)
    }

    static func level(_ a: PersonRecord, _ b: PersonRecord) -> Int8 {
        let comparator = Comparator(nicknames: PlaceholderRuleTests.nicknames)
        let ab = comparator.compare(a, b).levels[Field.address.rawValue], ba = comparator.compare(b, a).levels[Field.address.rawValue]
        #expect(ab == ba, "the address level does not depend on the order")
        return ab
    }

    @Test func aPostcodeOneKeystrokeOffIsALevelOfItsOwn() {
        let home = Self.person("a", city: "portland", postcode: "97201")
        // A digit keyed wrong, two digits swapped: the same length, one edit.
        #expect(Self.level(home, Self.person("b", postcode: "97207")) == Level.postcodeTypo)
        #expect(Self.level(home, Self.person("c", postcode: "97210")) == Level.postcodeTypo)
        #expect(Self.level(home, Self.person("d", city: "portland", postcode: "97281")) == Level.postcodeTypo)
        // Two streets that disagree: a neighbour's postcode as often as a typo, the same area only.
        #expect(Self.level(Self.person("s1", street: "12 oak st", postcode: "97201"), Self.person("s2", street: "840 elm ave", postcode: "97207"))
            == Level.cityOrArea)
        // Two postcodes of one town (or numbers a step or two apart across a ten): the same area only.
        #expect(Self.level(home, Self.person("e", city: "portland", postcode: "97255")) == Level.cityOrArea)
        #expect(Self.level(Self.person("f", postcode: "97209"), Self.person("g", postcode: "97211")) == Level.cityOrArea)
        // Short codes are no keystroke evidence; the same postcode and a shared house rank above.
        #expect(Self.level(Self.person("h", postcode: "972"), Self.person("i", postcode: "979")) == 0)
        #expect(Self.level(home, Self.person("j", postcode: "97201")) == Level.postcode)
        #expect(Self.level(Self.person("k", street: "12 oak st", postcode: "97201"), Self.person("l", street: "12 oka st", postcode: "97210"))
            == Level.house)
        #expect(Field.address.levels.count == Int(Level.street) + 1)
    }

    @Test func theRegionTellsNamesakesApartWhereNothingFinerIsCompared() {
        let florida = Self.person("fl", region: "FL"), oregon = Self.person("or", postcode: "97201", region: "OR")
        // A marketing record holding a name and its state, nothing finer: the state decides.
        #expect(Self.level(florida, oregon) == 0)
        #expect(Self.level(florida, Self.person("fl2", city: "tampa", postcode: "33612", region: "FL")) == Level.region)
        // Finer parts, where both hold them, decide before the region.
        #expect(Self.level(Self.person("x", postcode: "33612", region: "FL"), Self.person("y", postcode: "33698", region: "FL")) == 0)
        #expect(Self.level(Self.person("x", postcode: "33612", region: "FL"), Self.person("y", postcode: "33612", region: "fl")) == Level.postcode)
        // A city of the same name in another state is another city.
        #expect(Self.level(Self.person("il", city: "springfield", region: "IL"), Self.person("mo", city: "springfield", region: "MO")) == 0)
        #expect(Self.level(Self.person("il", city: "springfield", region: "IL"), Self.person("il2", city: "springfield")) == Level.cityOrArea)
        // A code against a name is not compared: one state in two systems' spellings is no evidence
        // either way, and the cities still compare.
        #expect(Self.level(Self.person("ca", region: "CA"), Self.person("cal", postcode: "90012", region: "California")) == -1)
        #expect(Self.level(Self.person("ca", city: "los angeles", region: "CA"), Self.person("cal", city: "los angeles", region: "California"))
            == Level.cityOrArea)
        #expect(Self.level(Self.person("tx", region: "Texas"), Self.person("or", region: "Oregon")) == 0)
        // Nothing compared on either side: missing, not "different".
        #expect(Self.level(Self.person("n1"), Self.person("n2", region: "FL")) == -1)
    }

    /// A project too small to train (under 50 pairs a training session) is scored by the prior m
    /// alone. The levels cut out of older ones must not lower the others' prior: counted by index they
    /// did, and the activation test's exact copies of name, email and phone in one city fell from
    /// 0.89 to 0.64, below its threshold 0.8.
    @Test func aSmallProjectsExactCopiesStillMatchOnThePrior() {
        let people = [("ann", "lee", "4155550100", "san francisco"), ("bob", "ray", "3125550101", "chicago"),
                      ("cy", "dunn", "2065550102", "seattle"), ("di", "fox", "5035550103", "portland"),
                      ("ed", "gray", "6175550104", "boston")]
        func record(_ source: String, _ k: Int) -> PersonRecord {
            let (first, last, phone, city) = people[k]
            return PersonRecord(source: source, key: "\(k)", firstName: first, lastName: last, email: "\(first).\(last)@example.com",
                                phone: phone, city: city, nicknames: PlaceholderRuleTests.nicknames)
        }
        let records = people.indices.map { record("crm", $0) } + (0..<3).map { record("panel", $0) }
        var settings = MatchSettings()
        settings.threshold = 0.8
        settings.reviewLow = 0.5
        settings.reviewHigh = 0.8
        let result = Matcher(settings: settings, nicknames: PlaceholderRuleTests.nicknames).run(records)
        for k in 0..<3 { #expect(result.labels[k] == result.labels[people.count + k], "\(people[k].0) and the panel's copy") }
        #expect(Set(result.labels).count == people.count)
        // The prior's steps: "same street" three steps above "same city" and four above "different", as before the cuts.
        let m = FSModel.initial().m[Field.address.rawValue]
        #expect(abs(m[Int(Level.street)] / m[Int(Level.cityOrArea)] - 27) < 1e-9)
        #expect(abs(m[Int(Level.street)] / m[0] - 81) < 1e-9)
        for f in Field.allCases {
            #expect(f.priorSteps.count == f.levels.count, "\(f.name)")
            #expect(zip(f.priorSteps, f.priorSteps.dropFirst()).allSatisfy { $0 < $1 }, "\(f.name): a closer level, a higher prior")
        }
    }

    /// The region staged with a person record reaches matching (`PersonRecord.loadAll`, `load`).
    @Test func theStagedRegionIsLoaded() throws {
        let (project, family, catalog) = try smallMultiSourceProject(matched: false)
        defer { withExtendedLifetime(project) {} }
        let expected = Dictionary(uniqueKeysWithValues: family.sources.flatMap { s in s.value.map { ("\(s.key):\($0.key)", $0.state) } })
        let records = try catalog.pool.read { try PersonRecord.loadAll($0, nicknames: Nicknames(pairs: [])) }
        #expect(!records.isEmpty)
        for r in records { #expect(String(decoding: r.region, as: UTF8.self) == expected[r.id]?.lowercased(), "\(r.id)") }
        let one = try #require(records.first)
        let loaded = try catalog.pool.read { try PersonRecord.load($0, source: one.source, key: one.key, nicknames: Nicknames(pairs: [])) }
        #expect(loaded?.region == one.region)
    }
}

/// A model fitted on older comparison levels (stored in `identity_run.model_json` by an earlier
/// steward) must not score today's vectors: its address level 2 meant "same postcode".
@Suite(.serialized) struct StoredModelLevelsTests {
    /// The latest pass's model as an older steward stored it: no version, five address levels.
    static func olderModel(_ json: String) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["levelsVersion"] as? Int == FSModel.currentLevelsVersion)
        object["levelsVersion"] = nil
        for key in ["m", "u"] {
            var rows = try #require(object[key] as? [[Double]])
            rows[Field.address.rawValue] = Array(rows[Field.address.rawValue].prefix(5))
            object[key] = rows
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func aModelOfOlderLevelsIsRefusedNotMisread() throws {
        let model = FSModel.initial()
        let json = String(decoding: try JSONEncoder().encode(model), as: UTF8.self)
        #expect(try FSModel.current(json).m == model.m)
        let older = try Self.olderModel(json)
        #expect(try JSONDecoder().decode(FSModel.self, from: Data(older.utf8)).levelsVersion == 1)
        #expect(throws: FSModel.StaleLevels.self) { try FSModel.current(older) }
        // Today's version with another shape (a hand-edited or truncated row) is refused too.
        var object = try #require(try JSONSerialization.jsonObject(with: Data(older.utf8)) as? [String: Any])
        object["levelsVersion"] = FSModel.currentLevelsVersion
        let misshapen = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(throws: FSModel.StaleLevels.self) { try FSModel.current(misshapen) }
    }

    /// Incremental matching (`steward serve`) and `explain` refuse the older model; the next full
    /// pass stores one of today's levels and both work again.
    @Test func incrementalMatchingAndExplainWaitForANewPass() throws {
        let (p, _, catalog) = try smallMultiSourceProject(matched: true)
        let config = try p.config()
        let member = try #require(try catalog.pool.read { try Row.fetchOne($0, sql: "SELECT source, record_key FROM identity_member LIMIT 1") })
        let ref = (source: member[0] as String, key: member[1] as String)
        let matcher = IncrementalMatch(config: config, catalog: catalog)
        let (runId, json) = try catalog.pool.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT run_id, model_json FROM identity_run ORDER BY run_id DESC LIMIT 1"))
            return (row[0] as Int64, row[1] as String)
        }
        try catalog.pool.write { try $0.execute(sql: "UPDATE identity_run SET model_json = ? WHERE run_id = ?", arguments: [Self.olderModel(json), runId]) }
        #expect(try matcher.match([ref], runId: runId).skipped)
        #expect(throws: FSModel.StaleLevels.self) { try catalog.pool.read { try Explainer($0, threshold: 0.9) } }
        try catalog.pool.write { try $0.execute(sql: "UPDATE identity_run SET model_json = ? WHERE run_id = ?", arguments: [json, runId]) }
        let outcome = try matcher.match([ref], runId: runId)
        #expect(!outcome.skipped && outcome.updated == 1)
        #expect(try catalog.pool.read { try Explainer($0, threshold: 0.9).runId } == runId)
    }
}
