import Foundation
import Testing
@testable import StewardIdentity
@testable import StewardPipeline
@testable import StewardConfig

/// The identity model's seeded SplitMix64 as a generator for `Int.random(in:using:)`: the random tests
/// of this file and ParserFuzzTests run the same inputs every time.
extension SplitMix: RandomNumberGenerator {}
typealias FuzzRNG = SplitMix

private func icuMatches(_ pattern: String, _ s: String) throws -> Bool {
    let re = try NSRegularExpression(pattern: pattern)
    return re.firstMatch(in: s, range: NSRange(location: 0, length: (s as NSString).length)) != nil
}

@Suite("Regex: linear-time matching")
struct RegexLinearTests {
    /// The classic catastrophic-backtracking patterns (issue 15 item 6: 30 × "a" + "!" never finished).
    /// A regression to backtracking hangs this test, and CI's time limit fails it.
    @Test(arguments: [30, 1_000, 100_000])
    func backtrackingPatternsFinish(length: Int) throws {
        let a = String(repeating: "a", count: length)
        let cases: [(String, String, Bool)] = [
            ("(a+)+$", a + "!", false), ("(a+)+$", a, true),
            // A non-ASCII scalar sent the old matcher to NSRegularExpression: 24 × "a" + "é" took 1.2 s, 30 never ended.
            ("(a+)+$", a + "é", false), ("(a|aa)+$", a + "é", false), ("^(a|a)*$", a + "é", false),
            ("^(a+)+$", a + "!", false), ("^(a+)+$", a, true),
            ("(a|a)*$", a + "!", true),            // unanchored: the empty match at the end
            ("^(a|a)*$", a + "!", false), ("^(a|a)*$", a, true),
            ("(a|aa)+$", a + "!", false), ("^(a|aa)+$", a, true),
            ("^(\\w+\\s?)*$", a + "!", false), ("^(\\w+\\s?)*$", a, true),
            ("^(\\w+\\s?)*$", String(repeating: "ab ", count: length / 3) + "!", false),
            ("^(a*)*b$", a, false), ("^(.*a){12}$", a + "!", false),
            ("^([a-z]+\\.?)+@x\\.com$", a + "@x.co", false),
        ]
        for (pattern, value, expected) in cases {
            let regex = try #require(RegexPattern(pattern), "\(pattern)")
            #expect(regex.matches(value) == expected, "\(pattern) on \(value.count) chars")
        }
        // Non-ASCII values go through the NFA simulation: still linear.
        let accented = String(repeating: "é", count: length)
        #expect(try #require(RegexPattern("^(\\w+)+$")).matches(accented))
        #expect(try #require(RegexPattern("^(\\w+)+$")).matches(accented + "!") == false)
    }

    /// Expected answers for the constructs the matcher supports, checked against ICU as well.
    @Test func tableOfPatternsAndValues() throws {
        let table: [(String, [(String, Bool)])] = [
            ("^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", [("SW1A 1AA", true), ("M1 1AE", true), ("M1 1A", false), ("sw1a 1aa", false)]),
            ("^\\d{5}(-\\d{4})?$", [("94103", true), ("94103-1234", true), ("9410", false), ("94103-12", false), ("٩٤١٠٣", true)]),
            ("^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$", [("ann@example.com", true), ("ann@@example.com", false), ("a b@x.io", false)]),
            ("(?i)^abc$", [("ABC", true), ("aBc", true), ("abd", false)]),
            ("(?i:a)b", [("Ab", true), ("AB", false)]),
            ("^a.c$", [("abc", true), ("a\nc", false), ("aéc", true)]),
            ("(?s)^a.c$", [("a\nc", true)]),
            ("^abc$", [("abc\n", true), ("abc\n\n", false), ("abc\r\n", true)]),
            ("^abc\\z", [("abc\n", false), ("abc", true)]),
            ("(?m)^b$", [("a\nb\nc", true), ("a\r\nb\r\nc", true), ("abc", false)]),
            ("\\bcat\\b", [("a cat!", true), ("concat", false), ("cat", true)]),
            ("\\Bcat", [("concat", true), ("cat", false)]),
            ("^\\p{Lu}\\p{Ll}+$", [("Émile", true), ("émile", false)]),
            ("^[\\x41-\\x43]\\u00e9\\t$", [("Bé\t", true), ("Dé\t", false)]),
            ("^\\Qa.b\\E$", [("a.b", true), ("axb", false)]),
            ("^\\Qa.b\\E+$", [("a.bbb", true), ("a.ba.b", false)]),
            ("^(?:ab|a)(?:c|bcd)$", [("abcd", true), ("abc", true), ("ac", true), ("abd", false)]),
            ("^a{2,3}$", [("a", false), ("aa", true), ("aaa", true), ("aaaa", false)]),
            ("^a+?b*?$", [("aab", true), ("b", false)]),
            ("^(?<year>\\d{4})-\\d{2}$", [("2024-01", true), ("24-01", false)]),
            ("^[]a-]+$", [("]-a", true), ("b", false)]),
            ("^\\h+\\S$", [(" \u{A0}x", true), ("\n x", false)]),
            ("x?", [("", true), ("anything", true)]),
        ]
        for (pattern, rows) in table {
            let regex = try #require(RegexPattern(pattern), "\(pattern)")
            for (value, expected) in rows {
                #expect(regex.matches(value) == expected, "\(pattern) on \(value.debugDescription)")
                #expect(try icuMatches(pattern, value) == expected, "ICU: \(pattern) on \(value.debugDescription)")
            }
        }
    }

    /// Random small patterns of the supported grammar against random short values: the same answer as
    /// NSRegularExpression (ICU). Quantified groups are not nested inside quantified groups, and lazy
    /// quantifiers only follow single atoms: there ICU itself answers inconsistently (its own
    /// `((?:\B)*?\n)+` fails where `((?:\B)*\n)+` matches "-\n").
    @Test func randomPatternsAgreeWithNSRegularExpression() throws {
        var rng = FuzzRNG(seed: 15)
        let atoms = ["a", "b", "A", "1", " ", "\\n", ".", "\\d", "\\w", "\\s", "\\W", "\\S", "\\D", "[ab]", "[^a]",
                     "[a-c]", "[\\d-]", "[a-c\\s]", "\\.", "-", "\\p{Lu}", "\\P{L}", "\\h", "\\x41", "\\u00e9", "é", "[é-ê]"]
        let anchors = ["\\b", "\\B", "^", "$", "\\z", "\\Z", "\\A"]
        let quantifiers = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}"]
        let flags = ["", "", "", "(?i)", "(?m)", "(?s)", "(?im)"]
        let alphabet = ["a", "b", "A", "B", "1", " ", "\n", "\r", "\r\n", "!", "-", ".", "é", "É", "ê", "\u{A0}", "\t",
                        "\u{85}", "\u{2028}"]
        func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
        func sequence(_ depth: Int) -> String {
            var s = ""
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let r = Int.random(in: 0..<12, using: &rng)
                if r < 2 && depth < 2 {
                    let body = sequence(depth + 1) + (Bool.random(using: &rng) ? "|" + sequence(depth + 1) : "")
                    s += pick(["(", "(?:", "(?i:", "(?s:"]) + body + ")" + (depth == 0 ? pick(quantifiers) : "")
                } else if r == 2 {
                    s += pick(anchors)
                } else {
                    s += pick(atoms) + pick(quantifiers)
                    if Int.random(in: 0..<8, using: &rng) == 0 { s += pick(["*?", "+?", "??"]) }
                }
            }
            return s
        }
        var compared = 0
        for _ in 0..<1_500 {
            let pattern = pick(flags) + sequence(0)
            guard (try? NSRegularExpression(pattern: pattern)) != nil else { continue }
            let regex: RegexPattern
            do { regex = try RegexPattern(validating: pattern) } catch {
                // The one refusal the grammar above can produce: a repeated anchor inside a group.
                #expect(error.message.contains("quantifier after an anchor"), "\(pattern): \(error.message)")
                continue
            }
            for _ in 0..<12 {
                let value = (0..<Int.random(in: 0...6, using: &rng)).map { _ in pick(alphabet) }.joined()
                let expected = try icuMatches(pattern, value)
                #expect(regex.matches(value) == expected, "\(pattern.debugDescription) on \(value.debugDescription)")
                compared += 1
            }
        }
        #expect(compared > 10_000)
    }

    @Test func constructsWithoutALinearMatcherAreRefusedWithAReason() {
        let refused: [(String, String)] = [
            ("(a)\\1", "backreference"), ("(?<n>a)\\k<n>", "backreference"), ("a(?=b)", "lookahead"),
            ("(?<!a)b", "lookbehind"), ("a*+", "possessive"), ("(?>a*)b", "atomic group"), ("^*a", "quantifier after an anchor"),
            ("[[:alpha:]]", "nested class"), ("[a-z&&b]", "intersection"), ("\\p{Latin}", "Unicode property"),
            ("(?x) a", "flag"), ("(a{1000}){1000}", "too large"), ("[a-", "invalid regular expression"),
        ]
        for (pattern, reason) in refused {
            #expect(throws: RegexPatternError.self, "\(pattern)") { try RegexPattern(validating: pattern) }
            do { _ = try RegexPattern(validating: pattern) } catch {
                #expect(error.message.contains(reason), "\(pattern): \(error.message)")
            }
        }
    }

    /// Refused when steward.yml is loaded (exit 2 with file, line and key), never at run time.
    @Test func configWithABackreferenceIsAConfigError() throws {
        let yml = ConfigTests().base + "    checks:\n      - pattern: {column: name, regex: \"^(a)\\\\1$\"}\n"
        do {
            _ = try ConfigTests.load(yml)
            Issue.record("a backreference was accepted")
        } catch let e as ConfigError {
            #expect(e.key == "sources.a.checks.pattern.regex")
            #expect(e.line == 11)
            #expect(e.message.contains("backreference"))
        }
    }

    /// `steward run` on a value that made the old matcher backtrack forever: it finishes, and the row
    /// fails the check with a reason. Killed hard after 60 s (the run treats SIGTERM as "finish the file").
    @Test func runWithABacktrackingPatternFinishes() async throws {
        try await offPool {
            let p = TempProject("redos")
            p.write("steward.yml", """
            name: redos
            sources:
              - name: people
                system: crm
                entity: person
                format: csv
                path: people.csv
                key: id
                mapping: {first_name: name}
                checks:
                  - pattern: {column: name, regex: "(a+)+$", name: a_run}

            """)
            let run30 = String(repeating: "a", count: 30)
            p.write("people.csv", "id,name\n1,\(run30)!\n2,aaa\n3,\(run30)é\n")
            let run = Process()
            run.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            run.arguments = ["-s", "KILL", "60", StewardBinary.url.path, "run", "--project", p.dir.path]
            run.standardOutput = FileHandle.nullDevice
            run.standardError = FileHandle.nullDevice
            try run.run()
            run.waitUntilExit()
            #expect(run.terminationReason == .exit && run.terminationStatus != 137, "killed after 60 s")
            let quarantine = try StewardBinary.run(["quarantine", "--json", "--source", "people", "--project", p.dir.path])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(quarantine.stdout.utf8)) as? [[String: Any]])
            #expect(rows.compactMap { $0["line"] as? Int }.sorted() == [2, 4])
            for row in rows {
                let reasons = row["reasons"] as? [String] ?? []
                #expect(reasons.contains { $0.contains("does not match /(a+)+$/") }, "\(reasons)")
            }
        }
    }
}
