import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardIdentity

/// Which customers a lookup considers: whole words and prefixes, and the bound on a misspelt
/// word's candidates, over an index written the way a matching pass writes it.
@Suite struct CustomerSearchCandidateTests {
    /// A catalog whose index holds these entries: customer number, names, emails.
    static func catalog(_ p: TempProject, _ entries: [(Int, String, String)]) throws -> Catalog {
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent("c.sqlite"))
        try catalog.pool.write { db in
            var inserter = try CustomerSearch.Inserter(db)
            for (n, names, emails) in entries {
                let id = String(format: "C%08d", n)
                let sounds = names.split(separator: " ").map { Compare.nysiis(String($0)).lowercased() }.joined(separator: " ")
                try inserter.write(db, id: id, fields: [names, sounds, emails, "", "", id])
            }
        }
        return catalog
    }

    static func ids(_ catalog: Catalog, _ query: String, limit: Int = 10) throws -> [Int] {
        let hits = try catalog.pool.read { try CustomerSearch.search($0, query: query, limit: limit) }
        return hits.map { Int(StableIdAssigner.number($0.customerId) ?? -1) }
    }

    @Test func aPhoneIsFoundByItsLastDigitsHoweverItIsWritten() throws {
        #expect(CustomerSearch.phoneToken("+1 (313) 635-7273") == "p37275363131")
        #expect(CustomerSearch.phoneToken("n/a") == nil)
        #expect(CustomerSearch.phonesAsWritten("p37275363131 p4321") == "13136357273 1234")
        // An index of the earlier format: digit suffixes, kept as they are.
        #expect(CustomerSearch.phonesAsWritten("3136357273 6357273") == "3136357273 6357273")
        let p = TempProject("search-phones")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent("c.sqlite"))
        try catalog.pool.write { db in
            var inserter = try CustomerSearch.Inserter(db)
            var entries = CustomerSearch.Entries()
            // 1: a US number with its country code; 2: a UK one without; 3: a short extension;
            // 4: the same last seven digits as 1 behind another area code.
            // 5: a number that is 1's last ten digits backwards; 6: 7654321 backwards.
            for (n, phones) in [(1, ["+1 313 635 7273"]), (2, ["020 7946 0958", "07700 900123"]), (3, ["4321"]), (4, ["(212) 635-7273"]),
                                (5, ["3727536313"]), (6, ["1234567"])] {
                let id = String(format: "C%08d", n)
                let terms = phones.map { CustomerSearch.Terms(recordKey: "r\(n)", names: ["pat", "lee", nil], email: nil, phone: $0, postcode: nil, nationalId: nil) }
                try inserter.write(db, id: id, fields: entries.fields(id: id, terms))
            }
        }
        #expect(try Self.ids(catalog, "(313) 635-7273") == [1])
        #expect(try Self.ids(catalog, "+13136357273") == [1])
        #expect(try Self.ids(catalog, "313.635.7273") == [1])
        #expect(try Set(Self.ids(catalog, "635 7273")) == [1, 4])
        #expect(try Self.ids(catalog, "313 635 7274").isEmpty)
        // Typed with a country code the record did not have: the last ten digits still match.
        #expect(try Self.ids(catalog, "+44 20 7946 0958") == [2])
        #expect(try Self.ids(catalog, "07700900123") == [2])
        // A number is never found by its digits backwards.
        #expect(try Self.ids(catalog, "7654321").isEmpty)
        #expect(try Self.ids(catalog, "3727536313") == [5])
        // Fewer than seven digits are not a phone query.
        #expect(try Self.ids(catalog, "4321").isEmpty)
        // A phone after a name: the name's entries that hold the phone.
        #expect(try Self.ids(catalog, "Lee 3136357273") == [1])
    }

    @Test func aWordFollowedByAnotherMatchesWholeNamesTheLastAndShortOnesMatchPrefixes() throws {
        let p = TempProject("search-words")
        let catalog = try Self.catalog(p, [(1, "john smith", "john.smith@example.com"), (2, "johnson smith", "johnson.smith@example.com"),
                                           (3, "john smithers", "")])
        // "John" is typed whole: Johnson is not a John; "Smith" is the last word and may be half typed.
        #expect(try Set(Self.ids(catalog, "John Smith")) == [1, 3])
        #expect(try Set(Self.ids(catalog, "John Smi")) == [1, 3])
        #expect(try Self.ids(catalog, "Johnson Smith") == [2])
        // Up to three characters, a word may be short for a longer one.
        #expect(try Set(Self.ids(catalog, "Jo Smith")) == [1, 2, 3])
    }

    @Test func aMisspeltSurnameIsFoundPastHundredsOfNamesWithTheSameFirstLetters() throws {
        // 600 John Smallwoods numbered before the one John Smith: "sm*" with John matched more
        // customers than a candidate query reads (500), all Smallwoods, and the Smith was not scored.
        let p = TempProject("search-bound")
        let catalog = try Self.catalog(p, (1...600).map { ($0, "john smallwood", "") } + [(700, "john smith", "")])
        #expect(try Self.ids(catalog, "John Smtih").first == 700)
        #expect(CustomerSearch.candidateLimit < 600)
        // The names spelt like the typo, not every name starting the same way.
        let similar = try catalog.pool.read { try CustomerSearch.similarNames($0, to: "smtih") }
        #expect(similar == ["smith"])
        // A name spelt like the word matched someone (here the exact query's John Smith): the
        // Smallwoods, nothing like "smith", are not candidates.
        #expect(try Self.ids(catalog, "John Smith") == [700])
        #expect(try Self.ids(catalog, "John Smallwood", limit: 3) == [1, 2, 3])
    }

    @Test func withNoNameSpeltLikeTheTypoAnyNameWithItsFirstLettersStillCounts() throws {
        let p = TempProject("search-fallback")
        let catalog = try Self.catalog(p, [(1, "mary sandoval", ""), (2, "mary quill", "")])
        // No name is spelt like "saxyzqw": the loose word falls back to any name starting "sa".
        #expect(try Self.ids(catalog, "Mary Saxyzqw").first == 1)
    }

    @Test func goldenRowsAreReadForTheBestBoundedCandidatesAndTheBestOneIsAmongThem() throws {
        // 60 namesakes before the one whose email holds both words (scores 2 per word): golden rows
        // are read for 30 candidates only, ordered by the bound, which counts the email.
        let p = TempProject("search-golden")
        let catalog = try Self.catalog(p, (1...60).map { ($0, "john smith", "") } + [(100, "john smith", "john.smith@example.com")])
        try catalog.pool.write { db in
            for n in [1, 2, 100] {
                try db.execute(sql: "INSERT INTO golden_customer (customer_id, first_name, last_name, provenance_json, updated_run) VALUES (?, 'John', 'Smith', '{}', 1)",
                               arguments: [String(format: "C%08d", n)])
            }
        }
        let hits = try catalog.pool.read { try CustomerSearch.search($0, query: "John Smith", limit: 5) }
        #expect(hits.map(\.customerId) == ["C00000100", "C00000001", "C00000002", "C00000003", "C00000004"])
        // Golden names where read; a candidate without a golden row keeps its entry's score.
        #expect(hits.prefix(3).allSatisfy { $0.name == "John Smith" } && hits[3].name.isEmpty)
        #expect(hits[0].score == 4 && hits[1].score == 2 && hits[3].score == 1.9)
        #expect(CustomerSearch.goldenReadsAtLeast < 60)
    }

    @Test func anEmailsCandidatesAreTheEntriesItsPhraseMatchesFoundFromItsLocalPart() throws {
        let p = TempProject("search-email")
        let catalog = try Self.catalog(p, [
            (1, "karen mitchell", "karen.mitchell@icloud.com"), (2, "karen mitchell", "karen.mitchell@gmail.com k.m@icloud.com"),
            (3, "karen mitchell", "mitchell.karen@icloud.com"), (4, "karen mitchell", "karen.mitchell2@icloud.com"),
            (5, "karen mitchell", "karen_mitchell@icloud.co.uk"), (6, "ann lee", "ann.lee@example.com karen.mitchell@icloud.com"),
        ])
        for query in ["karen.mitchell@icloud.com", "Karen.Mitchell@iCloud.com", "karen.mitchell@icloud.co", "karen.mitchell@icloud.",
                      "karen.mitchell@", "karen.mitchell@gmail.com", "karen_mitchell@icloud", "k.m@icloud.com", "mitchell@icloud.com",
                      "nobody@icloud.com", "karen mitchell@icloud.com"] {
            let phrase = try #require(CustomerSearch.ftsQuery(query))
            let expected = try catalog.pool.read {
                try Int64.fetchAll($0, sql: "SELECT rowid FROM customer_search WHERE customer_search MATCH ? LIMIT 500", arguments: [phrase])
            }
            let candidates = try catalog.pool.read { try CustomerSearch.emailCandidates($0, query: query) }
            if query.contains(" ") { #expect(candidates == nil); continue }
            #expect(candidates == expected, "\(query): \(phrase)")
        }
        #expect(try Self.ids(catalog, "karen.mitchell@icloud.com") == [1, 6])
        // A local part more entries share than a candidate query reads: the phrase itself.
        let p2 = TempProject("search-email-many")
        let many = try Self.catalog(p2, (1...501).map { ($0, "john smith", "john.smith@example.com") } + [(600, "john smith", "john.smith@example.org")])
        #expect(try many.pool.read { try CustomerSearch.emailCandidates($0, query: "john.smith@example.org") } == nil)
        #expect(try Self.ids(many, "john.smith@example.org") == [600])
    }

    @Test func theNameListFollowsTheIndexAndForgetsAnErasedPersonsNames() throws {
        let p = TempProject("search-names")
        let catalog = try Self.catalog(p, [(1, "ada lovelace", ""), (2, "ada byron", "")])
        let names = { try catalog.pool.read { try String.fetchAll($0, sql: "SELECT term FROM customer_search_name ORDER BY term") } }
        #expect(try names() == ["ada", "byron", "lovelace"])
        // Erasure: the names only the erased customer held go; shared ones stay.
        try catalog.pool.write { db in
            try CustomerSearch.forgetNames(db, customerIds: ["C00000001"])
            try db.execute(sql: "DELETE FROM customer_search WHERE customer_id = 'C00000001'")
        }
        #expect(try names() == ["ada", "byron"])
        // A whole rebuild starts the list again.
        try catalog.pool.write { db in _ = try CustomerSearch.prepare(db, scope: .all) }
        #expect(try names() == [])
    }

    @Test func theMigrationListsTheNamesOfAnExistingIndex() throws {
        let p = TempProject("search-migration")
        let queue = try DatabaseQueue(path: p.dir.appendingPathComponent("c.sqlite").path)
        try Schema.migrator.migrate(queue, upTo: "v6-raw-columns")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO customer_search (rowid, customer_id, names, sounds, emails, phones, postcodes, ids)
                VALUES (1, 'C00000001', 'ada lovelace', '', '', '', '', ''), (2, 'C00000002', 'ada byron', '', '', '', '', '')
                """)
        }
        try Schema.migrator.migrate(queue)
        #expect(try queue.read { try String.fetchAll($0, sql: "SELECT term FROM customer_search_name ORDER BY term") } == ["ada", "byron", "lovelace"])
    }

    @Test func theScorerGivesTheScoresOfTheStringComparisonsItReplaces() {
        // The lookup's ranking before names, keys and similarities were cached and identifiers
        // searched as bytes.
        func reference(_ words: [String], first: String, last: String, names: String, identifiers: [String]) -> (Double, Double) {
            let golden = [TextKey.key(first), TextKey.key(last)].filter { !$0.isEmpty }
            let tokens = names.split(separator: " ").map(String.init)
            let blob = identifiers.joined(separator: " ").lowercased()
            var score = 0.0, weakest = Double.infinity
            for w in words {
                if blob.contains(w) { score += 2; continue }
                let g = golden.map { Compare.jaroWinkler($0, w) }.max() ?? 0
                let any = tokens.map { Compare.jaroWinkler($0, w) }.max() ?? 0
                score += max(g, any * 0.95)
                weakest = min(weakest, max(g, any * 0.95))
            }
            return (score, weakest)
        }
        let candidates: [(String, String, String, [String])] = [
            ("John", "Smith", "john jon smith", ["John.Smith@Example.com", "15551234567 5551234567", "10093", "C00000001 E0000485"]),
            ("Mary", "Davis", "davis mary", ["mary.davis12@gmail.com", "", "SW1A 1AA sw1a 1aa", "C00000002"]),
            ("Jürgen", "Müller", "jurgen muller", ["jürgen.müller@web.de", "", "80331", "C00000003"]),
            ("", "", "", ["", "", "", ""]),
        ]
        for query in [["john", "smtih"], ["mary", "daivs"], ["smith", "10093"], ["c00000002"], ["jurgen", "mueller"], ["müller"], ["sw1a"]] {
            var scorer = CustomerSearch.Scorer(words: query)
            for _ in 0..<2 {  // the second round reads the caches
                for (first, last, names, ids) in candidates {
                    let got = scorer.score(first: first, last: last, names: names, identifiers: ids)
                    let want = reference(query, first: first, last: last, names: names, identifiers: ids)
                    #expect(got.0 == want.0 && got.1 == want.1, "\(query) \(first) \(last)")
                }
            }
        }
        #expect(CustomerSearch.Scorer.contains("John.Smith@Example.com", Array("smith".utf8)))
        #expect(!CustomerSearch.Scorer.contains("smit", Array("smith".utf8)))
        #expect(!CustomerSearch.Scorer.contains("s m i t h", Array("smith".utf8)))
    }
}
