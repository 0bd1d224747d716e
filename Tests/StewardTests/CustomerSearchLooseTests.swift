import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardIdentity

/// A misspelt word's candidates (issues 16, 17, 19): the names spelt most like it are asked first,
/// and no more entries are read than the ranking needs, however common the other words are.
@Suite struct CustomerSearchLooseTests {
    static func ids(_ catalog: Catalog, _ query: String, limit: Int = 10) throws -> ([Int], CustomerSearch.Work) {
        var work = CustomerSearch.Work()
        let hits = try catalog.pool.read { try CustomerSearch.search($0, query: query, limit: limit, work: &work) }
        return (hits.map { Int(StableIdAssigner.number($0.customerId) ?? -1) }, work)
    }

    @Test func theBestSpeltSurnameIsAskedFirstAndTheEntriesReadAreBounded() throws {
        // A common first name with two surnames spelt a little like the typo, numbered first: all
        // three together matched more entries than a candidate query reads, all Smyths and Smits.
        #expect(Compare.jaroWinkler("smith", "smtih") > Compare.jaroWinkler("smyth", "smtih"))
        #expect(Compare.jaroWinkler("smyth", "smtih") > Compare.jaroWinkler("smits", "smtih"))
        let p = TempProject("search-loose-order")
        let entries = (1...300).map { ($0, "john smyth", "") } + (301...600).map { ($0, "john smits", "") }
            + (601...640).map { ($0, "john smith", "") } + [(700, "mary smith", "")]
        let catalog = try CustomerSearchCandidateTests.catalog(p, entries)
        #expect(entries.count > CustomerSearch.candidateLimit)
        let (ids, work) = try Self.ids(catalog, "John Smtih")
        // The namesakes tie; the lowest customer numbers rank first.
        #expect(ids == Array(601...610))
        // The Smiths' first rows are enough: no Smyth or Smit is read.
        let enough = max(10 * 3, CustomerSearch.goldenReadsAtLeast)
        #expect(work.entries == enough, "\(work)")
        #expect(work.golden <= enough)
        // Fewer Smiths than that: the next spelling (Smyth) fills the rest, and they rank after.
        let (fewer, fewerWork) = try Self.ids(catalog, "John Smtih", limit: 50)
        #expect(Array(fewer.prefix(40)) == Array(601...640))
        #expect(Array(fewer.dropFirst(40)) == Array(1...10))
        #expect(fewerWork.entries == 40 + 150, "\(fewerWork)")
    }

    @Test func aTypoThatMatchesNoNameStillFallsBackToTheSoundAndThenToItsFirstLetters() throws {
        let p = TempProject("search-loose-sound")
        // "kaitlin" shares no first two letters with "caitlin" but sounds like it.
        #expect(Compare.nysiis("kaitlin") == Compare.nysiis("caitlin"))
        let catalog = try CustomerSearchCandidateTests.catalog(p, [(1, "ada caitlin", ""), (2, "ada byron", ""), (3, "bob caitlin", "")])
        #expect(try Self.ids(catalog, "Ada Kaitlin").0.first == 1)
        // Names that share the sound are not ordered before they are read: more of them are read.
        #expect(Compare.nysiis("christina") == Compare.nysiis("christian"))
        #expect(Compare.jaroWinkler("kristina", "christina") > Compare.jaroWinkler("kristina", "christian"))
        let p2 = TempProject("search-loose-sound-many")
        let shared = try CustomerSearchCandidateTests.catalog(p2, (1...100).map { ($0, $0 % 4 == 0 ? "christina wood" : "christian wood", "") })
        #expect(try Self.ids(shared, "Kristina Wood").0 == Array(stride(from: 4, through: 40, by: 4)))
        // Nothing like "byzzq" and no sound in common: any name starting "by".
        #expect(try Self.ids(catalog, "Ada Byzzq").0.first == 2)
    }

    @Test func theOtherWordsMatchingNoOneAsksNoAlternative() throws {
        let p = TempProject("search-loose-probe")
        let catalog = try CustomerSearchCandidateTests.catalog(p, (1...50).map { ($0, "john smith", "") })
        // "Jonh Smtih": with "smtih" exact nobody matches, so "jonh"'s alternatives are not asked;
        // with "jonh" exact (as typed) nobody either. Both typos: the loose query, ranked.
        let (ids, work) = try Self.ids(catalog, "Jonh Smtih")
        #expect(ids.first == 1)
        // The words as typed, one probe per loosened word, the words or their sounds, and the loose query.
        #expect(work.queries == 5, "\(work)")
    }

    @Test func aTyposSoundSharedByThousandsIsNotReadBeforeTheBestSpeltName() throws {
        // "jaems" sounds like james and john (jan): the exact query with sounds matched every Mary
        // with any of those names, in rowid order, before the loose word asked for "james".
        #expect(Compare.nysiis("jaems") == Compare.nysiis("john") && Compare.nysiis("jaems") == Compare.nysiis("james"))
        let p = TempProject("search-loose-sound-first")
        let catalog = try CustomerSearchCandidateTests.catalog(p, (1...600).map { ($0, "mary john", "") } + (601...640).map { ($0, "mary james", "") })
        let (ids, work) = try Self.ids(catalog, "Mary Jaems")
        #expect(ids == Array(601...610))
        #expect(work.entries <= max(10 * 3, CustomerSearch.goldenReadsAtLeast), "\(work)")
        // A name spelt right with fewer namesakes than the top rows: its sound-alikes fill them.
        let (few, _) = try Self.ids(catalog, "Mary James", limit: 50)
        #expect(Array(few.prefix(40)) == Array(601...640) && few.count == 50)
    }

    @Test func theOtherWordsAsTypedComeBeforeTheFormalNamesTheyMayBeShortFor() throws {
        // A nickname and its formal name from the reference data (data/nicknames.csv: james,jimmy).
        let (nick, formal) = try #require(["jimmy", "bill", "bob", "liz", "tom"].lazy.compactMap({ n in
            IdentityEngine.nicknames.formalNames(n).first { $0 != n }.map { (n, $0) }
        }).first)
        #expect(Compare.jaroWinkler(nick, nick) > Compare.jaroWinkler(nick, formal))
        // The formal name's people numbered first: together they filled the rows read, and the one
        // named as typed was not read.
        let p = TempProject("search-loose-typed")
        let catalog = try CustomerSearchCandidateTests.catalog(p, (1...300).map { ($0, "\(formal) martinez", "") } + [(400, "\(nick) martinez", "")])
        let (ids, work) = try Self.ids(catalog, "\(nick.capitalized) Martniez")
        #expect(ids.first == 400, "\(work)")
        #expect(work.entries <= max(10 * 3, CustomerSearch.goldenReadsAtLeast) + 1, "\(work)")
        let v = try #require(CustomerSearch.looseWords("\(nick) martniez").last)
        #expect(v.typed == "(names:\(nick))" && v.others.contains("names:\(formal)"))
    }

    @Test func alternativesAreTheSimilarNamesAndFormalNamesMostSimilarFirstThenTheSound() throws {
        let p = TempProject("search-loose-alts")
        let catalog = try CustomerSearchCandidateTests.catalog(p, [(1, "bill smits", ""), (2, "billy smith", ""), (3, "william smyth", ""),
                                                                   (4, "bilal ng", "")])
        let alts = try catalog.pool.read { try CustomerSearch.looseAlternatives($0, word: "bill") }
        #expect(alts.last == CustomerSearch.LooseAlternative(match: "sounds:" + Compare.nysiis("bill").lowercased(), name: nil, similarity: -1))
        let names = alts.compactMap(\.name)
        #expect(names.contains("billy") && names.contains("bill"))
        // The formal names it may be short for, where the reference data has them, at their similarity.
        for f in IdentityEngine.nicknames.formalNames("bill") where f != "bill" {
            #expect(alts.contains(CustomerSearch.LooseAlternative(match: "names:\"\(f)\"", name: f, similarity: Compare.jaroWinkler(f, "bill"))))
        }
        let similarities = alts.dropLast().map(\.similarity)
        #expect(similarities == similarities.sorted(by: >))
        let typo = try catalog.pool.read { try CustomerSearch.looseAlternatives($0, word: "smtih") }.compactMap(\.name)
        #expect(typo == ["smith", "smyth", "smits"])
    }

    @Test func aPrefixExpandedToTheIndexsNamesMatchesTheSameEntries() throws {
        // Seeded: random names from a small alphabet (many shared prefixes), random queries of a
        // loose word and a last word typed in part.
        var names = SeededNames(seed: 21)
        let p = TempProject("search-loose-prefix")
        let catalog = try names.catalog(p)
        var expanded = 0
        for _ in 0..<200 {
            let query = "zzq" + names.word(2) + " " + names.word(names.length(4...6))
            let plain = CustomerSearch.looseWords(query)
            let completed = try catalog.pool.read { db in CustomerSearch.looseWords(query, names: { try? CustomerSearch.namesStarting(db, with: $0) }) }
            #expect(plain.map(\.word) == completed.map(\.word))
            for (a, b) in zip(plain, completed) {
                if a.others != b.others { expanded += 1 }
                let rows = { (m: String) in
                    try catalog.pool.read { try Int64.fetchAll($0, sql: "SELECT rowid FROM customer_search WHERE customer_search MATCH ? ORDER BY rowid", arguments: [m]) }
                }
                #expect(try rows(a.others) == rows(b.others), "\(query): \(a.others) vs \(b.others)")
            }
        }
        #expect(expanded >= 20)
        #expect(try catalog.pool.read { try CustomerSearch.namesStarting($0, with: "zzzz") } == nil)
        // More names than an expansion holds: the prefix stays.
        let many = (0..<(CustomerSearch.prefixNamesLimit + 1)).map { (1000 + $0, "pat abcd\($0)x", "") }
        let p2 = TempProject("search-loose-prefix-many")
        let catalog2 = try CustomerSearchCandidateTests.catalog(p2, many)
        #expect(try catalog2.pool.read { try CustomerSearch.namesStarting($0, with: "abcd") } == nil)
        #expect(try catalog2.pool.read { try CustomerSearch.namesStarting($0, with: "abcd1") }?.count == 11)
    }

    @Test func namesWithAnIdentifierNobodyHasAndTyposInEveryWordAvoidRankingEveryName() throws {
        // Hostile at a million customers: the last resort (`looseQuery`, ranked by FTS5) ranks
        // every entry with a name like any word (0.4 s for "maria garcia 99999", 0.1 s for two typos).
        let p = TempProject("search-loose-resort")
        let entries = [(1, "maria garcia", ""), (2, "maria lopez", ""), (3, "john garcia", ""), (4, "marian garcia", "")]
            + (10...400).map { ($0, "mark garner\($0 % 7)", "") }
        let catalog = try CustomerSearchCandidateTests.catalog(p, entries)
        // A postcode nobody by these names has: the people by these names.
        let (postcode, postcodeWork) = try Self.ids(catalog, "maria garcia 99999")
        #expect(postcode.first == 1, "\(postcode)")
        #expect(postcodeWork.ranked == 0, "\(postcodeWork)")
        // A typo in each word: names spelt like each, both words at once.
        let (typos, typosWork) = try Self.ids(catalog, "mariq garcai")
        #expect(typos.first == 1, "\(typos)")
        #expect(typosWork.ranked == 0, "\(typosWork)")
        // Nothing like any word: the ranked last resort is still asked, and finds nobody.
        let (nobody, nobodyWork) = try Self.ids(catalog, "zzzz qqqq")
        #expect(nobody.isEmpty && nobodyWork.ranked == 1, "\(nobodyWork)")
    }

    @Test func aHalfTypedLastWordCompletesToTheIndexsNamesInTheWholeQuery() throws {
        // Seeded as above, for the query every search asks first (`ftsQuery`): with the index's
        // names for the last word, the same entries as with the prefix, in the same order.
        var seeded = SeededNames(seed: 22)
        let p = TempProject("search-strict-prefix")
        let catalog = try seeded.catalog(p)
        var completed = 0
        for _ in 0..<200 {
            let query = seeded.word(4) + " " + seeded.word(seeded.length(4...6))
            let rows = { (m: String) in
                try catalog.pool.read { try Int64.fetchAll($0, sql: "SELECT rowid FROM customer_search WHERE customer_search MATCH ? ORDER BY rowid", arguments: [m]) }
            }
            for sounds in [false, true] {
                let prefix = try #require(CustomerSearch.ftsQuery(query, sealed: true, sounds: sounds))
                let names = try #require(try catalog.pool.read { db in
                    CustomerSearch.ftsQuery(query, sealed: true, sounds: sounds, completions: { try? CustomerSearch.namesStarting(db, with: $0) })
                })
                if prefix != names { completed += 1 }
                #expect(try rows(prefix) == rows(names), "\(query): \(prefix) vs \(names)")
            }
        }
        #expect(completed >= 30)
        // Chosen: an email, id or postcode is matched by the last word whole once names complete it
        // (a half-typed identifier has digits or is up to three characters, which stay prefixes).
        let q = CustomerSearch.ftsQuery("ann smit", completions: { $0 == "smit" ? ["smith", "smiths"] : nil })
        #expect(q == #"({names ids postcodes emails}:ann* OR sounds:an) AND (names:("smith" OR "smiths") OR {ids postcodes emails}:smit OR sounds:snat)"#)
        #expect(CustomerSearch.ftsQuery("ann c00", completions: { _ in ["never"] }) == "({names ids postcodes emails}:ann* OR sounds:an) AND ({names ids postcodes emails}:c00*)")
    }
}

/// Random names from a small alphabet (many share their first letters), seeded.
struct SeededNames {
    private var rng: SplitMix
    private let letters = Array("abcdeo")
    init(seed: UInt64) { rng = SplitMix(seed: seed) }
    mutating func word(_ n: Int) -> String { String((0..<n).map { _ in letters[Int(rng.next() % UInt64(letters.count))] }) }
    mutating func length(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }
    /// 300 entries of two names: four letters, then four to seven.
    mutating func catalog(_ p: TempProject) throws -> Catalog {
        var entries: [(Int, String, String)] = []
        for n in 1...300 { entries.append((n, word(4) + " " + word(length(4...7)), "")) }
        return try CustomerSearchCandidateTests.catalog(p, entries)
    }
}
