import Foundation
import Testing
@testable import StewardIdentity
@testable import StewardPipeline
@testable import StewardConfig

/// Structured random inputs for the readers and the config loader: the seeded, short version of
/// `Fuzz/run.sh` (which runs the same targets under libFuzzer for minutes). Each input is written to a
/// file and read through the public API the pipeline uses.
enum FuzzInput {
    /// Pieces a CSV file is made of, hostile ones included: quotes, delimiters, every line ending, a
    /// BOM, NUL, invalid UTF-8, long fields.
    static let csvPieces: [[UInt8]] = [
        Array("a".utf8), Array("bc".utf8), Array("12".utf8), Array(" ".utf8), Array("é".utf8), Array("\"".utf8),
        Array("\"\"".utf8), Array("\"x,y\"".utf8), Array("\"multi\nline\"".utf8), Array(",".utf8), Array(",".utf8),
        Array(";".utf8), Array("\t".utf8), [0x0A], [0x0A], [0x0D, 0x0A], [0x0D], [0xEF, 0xBB, 0xBF], [0x00], [0xFF],
        [0xC3], [0xE2, 0x82], Array("\"open".utf8), Array("x\"y".utf8),
    ]

    static func csv(_ rng: inout FuzzRNG) -> [UInt8] {
        var out: [UInt8] = []
        if Int.random(in: 0..<6, using: &rng) == 0 { out += [0xEF, 0xBB, 0xBF] }
        for _ in 0..<Int.random(in: 0...60, using: &rng) {
            if Int.random(in: 0..<1_000, using: &rng) == 0 {
                // A huge field, sometimes inside an unterminated quote.
                let quote = Bool.random(using: &rng)
                out += (quote ? [0x22] : []) + [UInt8](repeating: 0x61, count: Int.random(in: 1_000...100_000, using: &rng))
            } else {
                out += csvPieces[Int.random(in: 0..<csvPieces.count, using: &rng)]
            }
        }
        return out
    }

    /// Byte-level damage to a valid input: flips, inserted hostile bytes, deletions, truncation.
    static func mutate(_ bytes: [UInt8], _ rng: inout FuzzRNG) -> [UInt8] {
        var b = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !b.isEmpty: b[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: b.insert(contentsOf: [[0x22], [0x0D], [0x0A], [0x00], [0xFF], [0x09], [0x3A], [0x26, 0x61], [0x2A, 0x61]][Int.random(in: 0..<9, using: &rng)], at: at)
            case 2 where !b.isEmpty: b.remove(at: at)
            case 3: b = Array(b.prefix(at))
            default: b.insert(contentsOf: b[at..<min(b.count, at + 20)], at: at)
            }
        }
        return b
    }

    /// The physical lines of a file (LF, CRLF or a lone CR ends one), as byte arrays without the break.
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = [], cur: [UInt8] = [], i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x0A || c == 0x0D {
                out.append(cur); cur = []
                if c == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
            } else {
                cur.append(c)
            }
            i += 1
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    static func breaks(in s: String) -> Int {
        var n = 0, previousCR = false
        for b in s.utf8 {
            if b == 0x0A { if !previousCR { n += 1 } } else if b == 0x0D { n += 1 }
            previousCR = b == 0x0D
        }
        return n
    }
}

@Suite("Fuzz: CSV and NDJSON readers, config loader (seeded)")
struct ParserFuzzTests {
    let dir: TempProject = TempProject("fuzz")

    func file(_ bytes: [UInt8], _ name: String) -> String {
        let url = dir.dir.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
        return url.path
    }

    /// Reads every record of `bytes`, checking that reading ends and line numbers are sane.
    func readCSV(_ bytes: [UInt8], chunkSize: Int, expectedFields: Int? = nil) throws -> [CSVRecord] {
        let reader = try CSVReader(path: file(bytes, "f.csv"), chunkSize: chunkSize)
        reader.expectedFieldCount = expectedFields
        let lineCount = FuzzInput.lines(bytes).count
        var records: [CSVRecord] = []
        while let r = try reader.next() {
            records.append(r)
            #expect(records.count <= bytes.count + 1, "more records than bytes: not terminating")
            if records.count > bytes.count + 1 { break }
        }
        for (a, b) in zip(records, records.dropFirst()) { #expect(a.line < b.line, "line numbers must increase") }
        for r in records { #expect(r.line >= 1 && r.line <= max(lineCount, 1), "line \(r.line) of \(lineCount)") }
        return records
    }

    @Test func csvReaderOnStructuredAndMutatedInput() throws {
        var rng = FuzzRNG(seed: 1515)
        var lastInput: [UInt8] = []
        for round in 0..<2_000 {
            var bytes = FuzzInput.csv(&rng)
            if round % 3 == 0 { bytes = FuzzInput.mutate(bytes.isEmpty ? lastInput : bytes, &rng) }
            lastInput = bytes
            // Tiny chunks put records across refills (a long record is parsed again per refill: small inputs only).
            let chunk = bytes.count < 4_096 ? [7, 64, 1 << 20][round % 3] : 1 << 20
            let records = try readCSV(bytes, chunkSize: chunk)
            // Every non-blank line is a record's first line, or lies inside the record before it (a quoted
            // field spanning lines): nothing is skipped silently.
            let starts = Set(records.map(\.line))
            for (k, line) in FuzzInput.lines(bytes).enumerated() where !line.isEmpty && !(k == 0 && line == [0xEF, 0xBB, 0xBF]) {
                let number = k + 1
                if starts.contains(number) { continue }
                guard let owner = records.last(where: { $0.line < number }) else {
                    Issue.record("line \(number) precedes every record (round \(round)) \(String(decoding: line, as: UTF8.self).debugDescription) \(bytes.prefix(40))"); break
                }
                let spans = owner.fields.reduce(0) { $0 + FuzzInput.breaks(in: $1) }
                #expect(owner.line + spans >= number, "line \(number) not covered (round \(round), record at \(owner.line)) \(String(decoding: line, as: UTF8.self).debugDescription) owner \(owner)")
            }
        }
    }

    /// Random fields written with proper quoting read back equal, whatever they hold.
    @Test func csvRoundTrip() throws {
        var rng = FuzzRNG(seed: 4180)
        let alphabet = ["a", "Z", "0", " ", ",", "\"", "\n", "\r\n", "\r", "é", "😀", "\t", ";", "'"]
        for round in 0..<1_500 {
            let columns = Int.random(in: 1...5, using: &rng)
            // A one-column row holding one empty value is left out: the reader takes `""` alone on a line
            // for a blank line (reported to the lead).
            let rows = (0..<Int.random(in: 1...12, using: &rng)).map { _ in
                (0..<columns).map { _ in
                    (0..<Int.random(in: columns == 1 ? 1...8 : 0...8, using: &rng)).map { _ in
                        alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                    }.joined()
                }
            }
            let eol = round % 2 == 0 ? "\n" : "\r\n"
            var text = round % 5 == 0 ? "\u{FEFF}" : ""
            var lookLikeStrayQuotes = false
            for row in rows {
                let line = row.map { field in
                    let needs = field.utf8.contains { [0x2C, 0x22, 0x0D, 0x0A].contains($0) }
                    return needs ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
                }.joined(separator: ",")
                // The reader's one deliberate exception (CSVReader.readsAsWholeRows): a multi-line row of three
                // or more columns whose every line has exactly a row's commas reads as stray quotes.
                let pieces = line.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                if columns >= 3 && pieces.count > 1 && pieces.allSatisfy({ $0.filter { $0 == "," }.count == columns - 1 }) {
                    lookLikeStrayQuotes = true
                }
                text += line + eol
            }
            if lookLikeStrayQuotes { continue }
            let records = try readCSV(Array(text.utf8), chunkSize: [5, 300, 1 << 20][round % 3], expectedFields: columns)
            #expect(records.map(\.fields) == rows, "round \(round)")
            #expect(records.allSatisfy { $0.problem == nil }, "round \(round)")
        }
    }

    @Test func ndjsonReaderOnStructuredAndMutatedInput() throws {
        var rng = FuzzRNG(seed: 7159)
        let pieces: [String] = [
            "{\"id\": \"1\", \"name\": \"Ann\"}", "{\"id\": 2, \"n\": {\"a\": [1, 2, {\"b\": null}]}}", "{}", "[]", "1", "\"x\"",
            "{\"id\": \"é\\u00e9\\ud83d\\ude00\"}", "{\"id\": ", "not json", "", "   ", "{\"a\": \"\\\"\"}",
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
            "{\"a\": " + String(repeating: "{\"a\": ", count: 60) + "1" + String(repeating: "}", count: 61),
        ]
        for round in 0..<1_000 {
            var bytes: [UInt8] = round % 7 == 0 ? [0xEF, 0xBB, 0xBF] : []
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                bytes += Array(pieces[Int.random(in: 0..<pieces.count, using: &rng)].utf8)
                bytes += [[0x0A], [0x0D, 0x0A], [0x0A], [0x00, 0x0A], [0xFF, 0x0A]][Int.random(in: 0..<5, using: &rng)]
            }
            if round % 2 == 1 { bytes = FuzzInput.mutate(bytes, &rng) }
            let stream = try NDJSONStream(path: file(bytes, "f.ndjson"))
            var rows: [SourceRow] = []
            while let row = try stream.next() {
                rows.append(row)
                if rows.count > bytes.count + 1 { Issue.record("not terminating"); break }
            }
            // One row per line that is not blank, at that line: LF ends a line (a CR before it is dropped).
            var lineTexts = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            if lineTexts.last?.isEmpty == true { lineTexts.removeLast() }
            if lineTexts.first?.starts(with: [0xEF, 0xBB, 0xBF]) == true { lineTexts[0].removeFirst(3) }  // the BOM
            let nonBlank = lineTexts.enumerated().filter { _, l in
                !String(decoding: l.last == 0x0D ? l.dropLast() : l[...], as: UTF8.self).allSatisfy(\.isWhitespace)
            }.map { $0.offset + 1 }
            #expect(rows.map(\.line) == nonBlank, "round \(round) \(bytes.prefix(80))")
        }
    }

    /// Either a project config, or a `ConfigError` (file, line, key): never another error, never a crash.
    @Test func configLoaderOnMutatedYAML() throws {
        var rng = FuzzRNG(seed: 2626)
        let base = Array((ConfigTests().base + """
            checks:
              - not_null: [id]
              - pattern: {column: name, regex: "^[A-Z][a-z]+$"}
              - accepted_values: {column: name, values: [a, b]}
        matching: {threshold: 0.8}

        """).utf8)
        let inserts: [String] = [
            "\n\t", ": ", "- ", "&a ", "*a", "<<: *a\n", "{", "}", "[", "]", "\"", "'", "#", "\n  x: 1\n", "\nname: dup\n",
            "? ", "!!binary ", "%YAML 1.1\n", "---\n", "...\n", "\u{0}", "~", "1e400", "nan", "-1", "../../..",
            String(repeating: "[", count: 500), String(repeating: "{a: ", count: 300),
        ]
        let project = TempProject("fuzzcfg")
        project.write("a.csv", "id,name\n1,x\n")
        for round in 0..<1_200 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0...bytes.count, using: &rng)
                if Bool.random(using: &rng) {
                    bytes.insert(contentsOf: Array(inserts[Int.random(in: 0..<inserts.count, using: &rng)].utf8), at: at)
                } else {
                    bytes = FuzzInput.mutate(bytes, &rng)
                }
            }
            _ = FileManager.default.createFile(atPath: project.ymlURL.path, contents: Data(bytes))
            do { _ = try ConfigLoader.load(project.ymlURL) } catch is ConfigError {} catch {
                Issue.record("round \(round): \(type(of: error)) \(error)")
            }
        }
    }

    /// A YAML alias bomb (nine levels of ten aliases: 10^9 nodes if expanded) anywhere in steward.yml
    /// is read or refused without expanding it.
    @Test func yamlAliasBombIsHarmless() throws {
        var levels = ["&a0 [x, x, x, x, x, x, x, x, x, x]"]
        for k in 1...9 { levels.append("&a\(k) [" + Array(repeating: "*a\(k - 1)", count: 10).joined(separator: ", ") + "]") }
        let bomb = "[" + levels.joined(separator: ", ") + ", *a9]"
        let project = TempProject("bomb")
        project.write("a.csv", "id,name\n1,x\n")
        let base = ConfigTests().base
        let placements = [
            "x_bomb: \(bomb)\n" + base,
            base + "x_bomb: \(bomb)\n",
            base + "    checks:\n      - accepted_values: {column: name, values: \(bomb)}\n",
            base + "    checks:\n      - not_null: \(bomb)\n",
            base + "matching: {threshold: \(bomb)}\n",
            base.replacingOccurrences(of: "mapping: {first_name: name}", with: "mapping: {first_name: \(bomb)}"),
            base.replacingOccurrences(of: "name: t", with: "name: \(bomb)"),
        ]
        for (k, yml) in placements.enumerated() {
            project.write("steward.yml", yml)
            do {
                _ = try ConfigLoader.load(project.ymlURL)
                Issue.record("placement \(k) loaded")
            } catch let e as ConfigError {
                #expect(e.description.count < 2_000, "placement \(k): the message quotes the expansion")
            } catch {
                Issue.record("placement \(k): \(type(of: error)) \(error)")
            }
        }
    }
}
