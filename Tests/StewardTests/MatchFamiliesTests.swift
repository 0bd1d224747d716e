import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardDemo
@testable import StewardIdentity
@testable import StewardPipeline

/// The matching evaluation suite's families (`MatchFamilies`, issue 17) at a small size, staged and
/// matched with default settings: each fails when its score drops below the goal. Seeded,
/// so a failure names one dataset (`steward-bench match --suite --seed 42 --scale 0.1 --families N`
/// reproduces it at the bench).
@Suite(.serialized) struct MatchFamiliesTests {
    static let seed: UInt64 = 42
    static let scale = 0.1

    struct Outcome {
        var score: PairwiseScore
        /// Pairs of records of two different members of one household in one customer, and of twins.
        var householdPairs = 0, twinPairs = 0
        /// Pairs of records of two people in one customer that carry the same junk value.
        var junkPairs = 0
        var junk: [(field: String, value: String, records: Int)]
        /// The most records in one customer, and in one true person.
        var largestCustomer = 0, largestPerson = 0
    }

    /// Writes family `number` as a project, runs staging and matching, and scores the customers.
    static func run(_ number: Int, seed: UInt64 = seed, scale: Double = scale) throws -> Outcome {
        let families = MatchFamilies(seed: seed, scale: scale)
        let family = try #require(families.family(number))
        let p = TempProject("family\(number)")
        try families.write(family.sources, name: family.name, to: p.dir)
        let config = try p.config()
        let catalog = try Catalog.open(at: config.catalogURL)
        let summary = try PipelineRunner(config: config, catalog: catalog, extensions: [IdentityResolution()]).run()
        #expect(summary.status == "success")
        let report = try catalog.pool.read { try MatchReport.load($0, truth: config.truth) }
        var outcome = Outcome(score: try #require(report.truth), junk: report.junk)
        var recordOf: [String: SuiteRecord] = [:]
        for (source, records) in family.sources { for r in records { recordOf["\(source):\(r.key)"] = r } }
        var customers: [String: [SuiteRecord]] = [:]
        for row in try catalog.pool.read({ try Row.fetchAll($0, sql: "SELECT source, record_key, customer_id FROM identity_member") }) {
            if let r = recordOf["\(row[0] as String):\(row[1] as String)"] { customers[row[2] as String, default: []].append(r) }
        }
        outcome.largestCustomer = customers.values.map(\.count).max() ?? 0
        var perPerson: [Int: Int] = [:]
        for records in family.sources.values { for r in records { perPerson[r.person, default: 0] += 1 } }
        outcome.largestPerson = perPerson.values.max() ?? 0
        for records in customers.values where records.count > 1 {
            for i in records.indices { for j in records.indices where j > i && records[i].person != records[j].person {
                let a = family.people[records[i].person], b = family.people[records[j].person]
                if a.household != nil && a.household == b.household {
                    outcome.householdPairs += 1
                    if a.twin && b.twin { outcome.twinPairs += 1 }
                }
                if records[i].junk != nil && records[i].junk == records[j].junk { outcome.junkPairs += 1 }
            } }
        }
        return outcome
    }

    static func describe(_ o: Outcome) -> String {
        String(format: "precision %.4f recall %.4f F1 %.4f, %d placeholders", o.score.precision, o.score.recall, o.score.f1, o.junk.count)
    }

    /// 1: census-style heavy duplicates, 1–9 records a person, no email or phone.
    @Test func heavyDuplicatesReachTheGoal() async throws {
        let o = try await offPool { try Self.run(1) }
        #expect(o.score.f1 >= 0.997, "\(Self.describe(o))")
    }

    /// 2: two files, each person once in each.
    @Test func twoFileLinkageReachesTheGoal() async throws {
        let o = try await offPool { try Self.run(2) }
        #expect(o.score.f1 >= 0.997, "\(Self.describe(o))")
    }

    /// 3: households (same address, landline, surname) and twins stay apart.
    @Test func householdsAndTwinsStayApart() async throws {
        let o = try await offPool { try Self.run(3) }
        #expect(o.score.precision >= 0.99, "\(Self.describe(o)), \(o.householdPairs) household pairs merged")
        #expect(o.twinPairs == 0, "\(o.twinPairs) twin pairs merged")
    }

    /// 4: 2 % junk ids, emails and phones; a fifth of the people on five common names.
    @Test func junkJoinsNoOneAndCommonNamesStayApart() async throws {
        let o = try await offPool { try Self.run(4) }
        #expect(o.junkPairs == 0, "\(o.junkPairs) merged pairs share a junk value")
        #expect(o.score.precision >= 0.99, "\(Self.describe(o))")
        // The generator's junk values are all known fillers: each is found, whatever its count.
        for value in ["000-00-0000", "123456789", "999999999", "111-11-1111", "test@test.com", "none@none.com", "n/a", "noemail@example.com"] {
            let key = PersonRecord(source: "s", key: "k", firstName: nil, lastName: nil, email: value, nationalId: value)
            #expect(KnownPlaceholder.matches(.nationalId, key.nationalId) || KnownPlaceholder.matches(.email, key.email), "\(value)")
        }
    }

    /// 5: three systems with their own fields, skewed cluster sizes (a marketing list holding little
    /// more than a name and an email).
    @Test func multiSourceSkewedReachesTheGoal() async throws {
        let o = try await offPool { try Self.run(5) }
        #expect(o.score.f1 >= 0.997, "\(Self.describe(o))")
        #expect(o.score.precision >= 0.999, "\(Self.describe(o))")
    }

    /// 5 at twice the size (about 2,000 records), where the marketing list's thin records are many
    /// enough to show: a name with a postcode one keystroke off, or a name and the state alone
    /// (F1 0.9956 when a mistyped postcode weighed as "same city" and the region was not compared).
    @Test func multiSourceSkewedAtTwiceTheSizeReachesTheGoal() async throws {
        let o = try await offPool { try Self.run(5, scale: 0.2) }
        #expect(o.score.f1 >= 0.997, "\(Self.describe(o))")
        #expect(o.score.precision >= 0.999, "\(Self.describe(o))")
    }

    /// 6: the 1 M scale run's generator at 2,000 records (the bench runs it at 1,000,000): the goal
    /// (F1 ≥ 0.99) and no customer larger than the largest true person.
    @Test func scaleRunShapeReachesItsGoalSmall() async throws {
        let o = try await offPool { try Self.run(6, scale: 0.002) }
        #expect(o.score.f1 >= 0.99, "\(Self.describe(o))")
        #expect(o.largestCustomer <= o.largestPerson, "largest customer \(o.largestCustomer), largest person \(o.largestPerson)")
    }
}

/// The error classes the suite's misses showed (BENCHMARKS.md, "Match suite"), each fixed in the
/// model, not in one dataset: pairs no blocking rule found, a lone name in the last-name field, names
/// weighed as common because one person has many records, and a thin record matching two namesakes.
@Suite struct MatchErrorClassTests {
    static func person(_ key: String, _ first: String, _ last: String, dob: String? = nil, email: String? = nil,
                       street: String? = nil, city: String? = nil, postcode: String? = nil) -> PersonRecord {
        PersonRecord(source: "s", key: key, firstName: first, lastName: last, email: email, dob: dob, street: street, city: city,
                     postcode: postcode, nicknames: PlaceholderRuleTests.nicknames)
    }

    /// True pairs that share no name, birth date or street key the older rules block on.
    @Test func defaultBlockingFindsMisspeltAndSwappedPairs() {
        let pairs: [(PersonRecord, PersonRecord)] = [
            // Swapped on one side and misspelt, sharing only the postcode.
            (Self.person("a1", "russell", "brenda", postcode: "01920"), Self.person("a2", "brenda", "rusesll", postcode: "01920")),
            // The street misspelt, the postcode missing on one side: the house number and the city.
            (Self.person("b1", "caarol", "griffin", street: "4828sprringave", city: "fresno"),
             Self.person("b2", "carol", "griffin", street: "4828springave", city: "fresno", postcode: "93757")),
            // Both names misspelt, the birth date's day and month swapped, the same postcode.
            (Self.person("c1", "paatrick", "bryatn", dob: "1941-05-10", postcode: "27698"),
             Self.person("c2", "patrick", "bryant", dob: "1941-10-05", postcode: "27698")),
            // Names swapped, the birth date all else both hold.
            (Self.person("d1", "eric", "owens", dob: "1946-07-11"), Self.person("d2", "owens", "eric", dob: "1946-07-11", postcode: "23221")),
            // A name and nothing else in common (a marketing record): names by sound, either order.
            (Self.person("e1", "braandon", "jenkins", postcode: "68182"), Self.person("e2", "brandon", "jenkins", email: "bj@mail.com")),
        ]
        var records: [PersonRecord] = []
        for (a, b) in pairs { records.append(a); records.append(b) }
        for i in 0..<50 { records.append(Self.person("f\(i)", "filler\(i)", "person\(i)", dob: "1990-01-\(10 + i % 18)", postcode: "1\(1000 + i)")) }
        let older = BlockingRule.defaults.filter { !$0.keys.contains(.houseNumber) && !$0.keys.contains(.initialsAnyOrder) && $0.keys != [.namesAnyOrder] }
        let before = Set(CandidatePairs.generate(records, rules: older, junk: []).pairs)
        let after = Set(CandidatePairs.generate(records, rules: BlockingRule.defaults, junk: []).pairs)
        for k in pairs.indices {
            let pair = UInt64(2 * k) << 32 | UInt64(2 * k + 1)
            #expect(!before.contains(pair), "pair \(k) was found before")
            #expect(after.contains(pair), "pair \(k) not found")
        }
        #expect(after.count < records.count * (records.count - 1) / 2 / 10)
    }

    /// A record whose one name sits in the last-name field ("", "christine") agrees with the other's
    /// first name, whichever record comes first.
    @Test func aLoneNameInTheLastNameFieldIsReadAsTheFirstName() {
        let lone = Self.person("1", "", "christine", dob: "1978-11-18")
        let full = Self.person("2", "christine", "perez", dob: "1978-11-18")
        let comparator = Comparator(nicknames: PlaceholderRuleTests.nicknames)
        for v in [comparator.compare(lone, full), comparator.compare(full, lone)] {
            #expect(v.levels[Field.firstName.rawValue] == 4 && v.levels[Field.lastName.rawValue] == -1 && v.swappedNames)
        }
        // A lone surname that is the other's surname stays a surname.
        let v = comparator.compare(Self.person("3", "", "perez"), full)
        #expect(v.levels[Field.lastName.rawValue] == 3 && !v.swappedNames)
    }

    /// A value counts once per group of records believed to be one person.
    @Test func nameFrequenciesCountPeopleNotRecords() {
        let records = (0..<9).map { Self.person("h\($0)", "patricia", "hayes") } + [Self.person("o", "omar", "haddad")]
        let byRecord = TermFrequencies(records)
        let byPerson = TermFrequencies(records, groups: [0, 0, 0, 0, 0, 0, 0, 0, 0, 9])
        #expect(byRecord.frequency(.lastName, Array("hayes".utf8)) == 0.9)
        #expect(byPerson.frequency(.lastName, Array("hayes".utf8)) == 0.5)
        #expect(byPerson.frequency(.lastName, Array("haddad".utf8)) == 0.5)
    }

    /// A record that matches two namesakes (birth dates decades apart) about equally could be either:
    /// both links are held; one far stronger than the other is left to the clusterer.
    @Test func aThinRecordBetweenTwoNamesakesJoinsNeither() {
        let records = [Self.person("boise", "gregory", "lewis", dob: "1943-03-04"), Self.person("albany", "gregory", "lewis", dob: "1989-08-09"),
                       Self.person("list", "gregory", "lewis", email: "gregory.lewis326@mail.com")]
        let matcher = Matcher(nicknames: PlaceholderRuleTests.nicknames)
        let comparator = Comparator(nicknames: PlaceholderRuleTests.nicknames)
        let threshold = matcher.settings.threshold
        func held(_ pBoise: Double, _ pAlbany: Double) -> [Bool] {
            var edges = [Clusterer.Edge(a: 0, b: 2, probability: pBoise), Clusterer.Edge(a: 1, b: 2, probability: pAlbany)]
            RecordView.with(records) { view in
                matcher.holdBetweenTwoPeople(&edges, view, count: records.count, comparator: comparator, junkMasks: [0, 0, 0])
            }
            return edges.map { $0.probability < threshold }
        }
        #expect(held(0.93, 0.91) == [true, true])
        #expect(held(0.9999, 0.91) == [false, false])
    }
}

/// The placeholder rule: a value is a placeholder when the records sharing it disagree, when more
/// records share it than one customer may hold, or when it is a known filler — never for its count alone.
@Suite struct PlaceholderRuleTests {
    static let nicknames = Nicknames(pairs: [("robert", "bob")])

    static func record(_ key: String, _ first: String, _ last: String, dob: String, email: String? = nil, phone: String? = nil,
                       id: String? = nil) -> PersonRecord {
        PersonRecord(source: "s", key: key, firstName: first, lastName: last, email: email, phone: phone, dob: dob,
                     nationalId: id, nicknames: nicknames)
    }

    /// Six records of one person, with a typo, a nickname, swapped names, a day/month swap and a
    /// missing birth date, share a national id: it is evidence, not a placeholder.
    @Test func aSharedIdOfOneConsistentPersonIsEvidence() {
        let records = [
            Self.record("1", "Robert", "Kowalski", dob: "1971-04-09", id: "482915736"),
            Self.record("2", "Bob", "Kowalski", dob: "1971-04-09", id: "482915736"),
            Self.record("3", "Robret", "Kowalsky", dob: "1971-09-04", id: "482915736"),
            Self.record("4", "Kowalski", "Robert", dob: "1971-04-09", id: "482915736"),
            Self.record("5", "Robert", "Kowalski", dob: "", id: "482915736"),
            Self.record("6", "Robert", "Kowalski", dob: "1971-04-09", id: "482915736"),
        ]
        #expect(JunkDetector.detect(records).isEmpty)
        let v = Comparator(nicknames: Self.nicknames).compare(records[0], records[2])
        #expect(v.levels[Field.nationalId.rawValue] == 2)
    }

    /// The same id on records of people who disagree (other first names, other birth dates) is a
    /// placeholder, already on two records; so is a household's landline.
    @Test func aSharedIdAcrossDisagreeingRecordsIsAPlaceholder() {
        let two = [Self.record("1", "Anna", "Berg", dob: "1980-02-11", id: "482915736"),
                   Self.record("2", "Omar", "Haddad", dob: "1962-07-30", id: "482915736")]
        #expect(JunkDetector.detect(two).map(\.0.text) == ["482915736"])
        let household = [Self.record("1", "Anna", "Berg", dob: "1980-02-11", phone: "+1 217 555 0142"),
                         Self.record("2", "Anna", "Berg", dob: "1980-02-11", phone: "+1 217 555 0142"),
                         Self.record("3", "Nils", "Berg", dob: "1978-10-02", phone: "+1 217 555 0142"),
                         Self.record("4", "Lena", "Berg", dob: "2009-05-17", phone: "+1 217 555 0142")]
        #expect(JunkDetector.detect(household).map(\.0.field) == [.phone])
        // One person's records alone (the first two) share the same landline as evidence.
        #expect(JunkDetector.detect(Array(household.prefix(2))).isEmpty)
    }

    /// Known fillers are placeholders at any count, even on two records of one consistent person.
    @Test func knownJunkOnTwoRecordsIsAPlaceholder() {
        for (email, phone, id) in [("test@test.com", "000-000-0000", "000-00-0000"), ("n/a", "555-555-5555", "123456789"),
                                   ("noemail@example.com", "(217) 123-4567", "999999999")] {
            let records = [Self.record("1", "Anna", "Berg", dob: "1980-02-11", email: email, phone: phone, id: id),
                           Self.record("2", "Anna", "Berg", dob: "1980-02-11", email: email, phone: phone, id: id)]
            let junk = JunkDetector.detect(records)
            #expect(Set(junk.map(\.0.field)) == [.email, .phone, .nationalId], "\(email) \(phone) \(id)")
            #expect(junk.allSatisfy { $0.1 == 2 })
            let v = Comparator(nicknames: Self.nicknames, junk: Set(junk.map(\.0))).compare(records[0], records[1])
            #expect(v.levels[Field.email.rawValue] == -1 && v.levels[Field.phone.rawValue] == -1 && v.levels[Field.nationalId.rawValue] == -1)
        }
        // Real values of the same shapes are not fillers.
        #expect(!KnownPlaceholder.matches(.nationalId, Array("482915736".utf8)))
        #expect(!KnownPlaceholder.matches(.phone, Array("+12175550142".utf8)))
        #expect(!KnownPlaceholder.matches(.email, Array("anna.berg@example.se".utf8)))
    }

    /// More records than one customer may hold cannot be one person, however well they agree.
    @Test func aValueOnMoreRecordsThanACustomerHoldsIsAPlaceholder() {
        let records = (0..<5).map { Self.record("\($0)", "Anna", "Berg", dob: "1980-02-11", email: "anna.berg@mail.se") }
        #expect(JunkDetector.detect(records, implausibleCount: 4).map(\.0.text) == ["anna.berg@mail.se"])
        #expect(JunkDetector.detect(records, implausibleCount: 5).isEmpty)
    }
}

/// What keeps two records apart whatever else they share: twins and household members.
@Suite struct TwoPeopleRuleTests {
    static func record(_ key: String, _ first: String, _ last: String, dob: String, email: String? = nil, id: String? = nil) -> PersonRecord {
        PersonRecord(source: "s", key: key, firstName: first, lastName: last, email: email, phone: "+1 217 555 0142", dob: dob,
                     street: "12 Oak Street", postcode: "62701", nationalId: id, nicknames: PlaceholderRuleTests.nicknames)
    }

    static func apart(_ a: PersonRecord, _ b: PersonRecord) -> Bool {
        withUnsafePointer(to: a) { a in withUnsafePointer(to: b) { b in
            Comparator(nicknames: PlaceholderRuleTests.nicknames).compare(a, b, junk: 0).apart(a, b)
        } }
    }

    @Test func twinsAreTwoPeopleUnlessAPersonalIdentifierAgrees() {
        let jennifer = Self.record("1", "Jennifer", "Nelson", dob: "2003-10-07", email: "jen@mail.com")
        let cynthia = Self.record("2", "Cynthia", "Nelson", dob: "2003-10-07", email: "cyn@mail.com")
        #expect(Self.apart(jennifer, cynthia))
        // One email on both: the first name is the odd one out (a nickname the list lacks).
        #expect(!Self.apart(jennifer, Self.record("3", "Cynthia", "Nelson", dob: "2003-10-07", email: "jen@mail.com")))
    }

    @Test func aTypoOnEachSideOrANicknameIsNoOtherPerson() {
        let daniel = Self.record("1", "Dniel", "Alvarez", dob: "1957-04-13")
        #expect(!Self.apart(daniel, Self.record("2", "Dainel", "Alvarez", dob: "1957-04-13")))
        #expect(!Self.apart(Self.record("3", "Bob", "Kowalski", dob: "1971-04-09"), Self.record("4", "Robert", "Kowalski", dob: "1971-09-04")))
        // Another script is a transliteration, not another name.
        #expect(!Self.apart(Self.record("5", "敏", "张", dob: "1980-01-02"), Self.record("6", "Min", "Zhang", dob: "1980-01-02")))
    }

    /// Without a first name, an email or national id that is another's tells household members apart.
    @Test func aRecordWithoutAFirstNameIsApartFromAnotherPersonsIdentifier() {
        let nameless = Self.record("1", "", "Hughes", dob: "2008-01-21", email: "k.hughes@mail.com")
        #expect(Self.apart(nameless, Self.record("2", "Amy", "Hughes", dob: "2008-01-21", email: "amy.h@mail.com")))
        #expect(!Self.apart(nameless, Self.record("3", "Amy", "Hughes", dob: "2008-01-21")))
        #expect(!Self.apart(nameless, Self.record("4", "Katherine", "Hughes", dob: "2008-01-21", email: "k.hughes@mail.com")))
    }
}
