import Foundation

/// A problem in a reference data file, with the file and 1-based line (0 = whole file).
public struct ReferenceDataError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}

extension ReferenceData {
    /// Loads `iso3166.csv` and `postcodes.csv` from `dataDir`.
    public static func load(from dataDir: URL) throws -> ReferenceData {
        let isoURL = dataDir.appendingPathComponent("iso3166.csv")
        let countries = try loadCountries(isoURL)
        let pcURL = dataDir.appendingPathComponent("postcodes.csv")
        let patterns = try loadPostcodes(pcURL, countries: countries)
        return ReferenceData(countries: countries, postcodePatterns: patterns)
    }

    /// `spill`: a column whose unquoted value may contain commas (regex `{1,2}`); extra fields are
    /// joined back into it.
    private static func readRows(_ url: URL, required: [String], spill: String? = nil) throws
        -> (columns: [String: Int], rows: [(line: Int, fields: [String])])
    {
        let file = url.path
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ReferenceDataError(file: file, line: 0, message: "cannot read file (\(error.localizedDescription))")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = String(first.dropFirst()) }
        guard let header = lines.first, !header.isEmpty else {
            throw ReferenceDataError(file: file, line: 1, message: "missing header line")
        }
        let names = try splitCSVLine(header, file: file, line: 1)
        var columns: [String: Int] = [:]
        for (i, n) in names.enumerated() { columns[n.trimmingCharacters(in: .whitespaces)] = i }
        for r in required where columns[r] == nil {
            throw ReferenceDataError(file: file, line: 1,
                                     message: "missing column '\(r)' (expected \(required.joined(separator: ",")))")
        }
        var rows: [(Int, [String])] = []
        for (i, l) in lines.enumerated().dropFirst() where !l.trimmingCharacters(in: .whitespaces).isEmpty {
            var fields = try splitCSVLine(l, file: file, line: i + 1)
            if fields.count > names.count, let spill, let at = columns[spill] {
                let extra = fields.count - names.count
                fields.replaceSubrange(at...(at + extra), with: [fields[at...(at + extra)].joined(separator: ",")])
            }
            guard fields.count == names.count else {
                throw ReferenceDataError(file: file, line: i + 1,
                                         message: "expected \(names.count) fields, found \(fields.count)")
            }
            rows.append((i + 1, fields.map { $0.trimmingCharacters(in: .whitespaces) }))
        }
        return (columns, rows)
    }

    /// RFC 4180 fields of one line (no embedded newlines in the reference files).
    static func splitCSVLine(_ line: String, file: String, line lineNo: Int) throws -> [String] {
        var fields: [String] = []
        var cur: [UInt8] = []
        var inQuotes = false
        var bytes = Array(line.utf8)[...]
        while let b = bytes.popFirst() {
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if bytes.first == UInt8(ascii: "\"") { cur.append(b); bytes.removeFirst() }
                    else { inQuotes = false }
                } else { cur.append(b) }
            } else if b == UInt8(ascii: "\"") && cur.isEmpty {
                inQuotes = true
            } else if b == UInt8(ascii: ",") {
                fields.append(String(decoding: cur, as: UTF8.self)); cur.removeAll(keepingCapacity: true)
            } else {
                cur.append(b)
            }
        }
        if inQuotes { throw ReferenceDataError(file: file, line: lineNo, message: "unterminated quoted field") }
        fields.append(String(decoding: cur, as: UTF8.self))
        return fields
    }

    private static func isDigits(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    private static func isUpperLetters(_ s: String, count: Int) -> Bool {
        s.utf8.count == count && s.utf8.allSatisfy { $0 >= 65 && $0 <= 90 }
    }

    private static func loadCountries(_ url: URL) throws -> [String: CountryInfo] {
        let cols = ["alpha2", "alpha3", "numeric", "name", "calling_code", "trunk_prefix", "national_lengths"]
        let (c, rows) = try readRows(url, required: cols)
        let file = url.path
        var out: [String: CountryInfo] = [:]
        for (line, f) in rows {
            func fail(_ m: String) -> ReferenceDataError { ReferenceDataError(file: file, line: line, message: m) }
            let a2 = f[c["alpha2"]!], a3 = f[c["alpha3"]!], num = f[c["numeric"]!]
            let name = f[c["name"]!], cc = f[c["calling_code"]!], trunk = f[c["trunk_prefix"]!]
            let lens = f[c["national_lengths"]!]
            guard isUpperLetters(a2, count: 2) else { throw fail("alpha2 '\(a2)' is not two capital letters") }
            guard isUpperLetters(a3, count: 3) else { throw fail("alpha3 '\(a3)' is not three capital letters") }
            guard num.isEmpty || (isDigits(num) && num.utf8.count == 3) else {
                throw fail("numeric '\(num)' is not three digits")
            }
            guard !name.isEmpty else { throw fail("empty name for \(a2)") }
            guard cc.isEmpty || (isDigits(cc) && cc.utf8.count <= 3) else {
                throw fail("calling_code '\(cc)' is not 1-3 digits")
            }
            guard trunk.isEmpty || isDigits(trunk) else { throw fail("trunk_prefix '\(trunk)' is not digits") }
            var range: ClosedRange<Int>? = nil
            if !lens.isEmpty {
                let parts = lens.split(separator: "-", omittingEmptySubsequences: false)
                guard parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]), lo >= 1, lo <= hi, hi <= 20 else {
                    throw fail("national_lengths '\(lens)' is not MIN-MAX (e.g. 10-10)")
                }
                range = lo...hi
            }
            guard out[a2] == nil else { throw fail("duplicate alpha2 '\(a2)'") }
            out[a2] = CountryInfo(alpha2: a2, alpha3: a3, numeric: num, name: name,
                                  callingCode: cc.isEmpty ? nil : cc,
                                  trunkPrefix: trunk.isEmpty ? nil : trunk,
                                  nationalLengths: range)
        }
        guard !out.isEmpty else { throw ReferenceDataError(file: file, line: 0, message: "no countries") }
        return out
    }

    private static func loadPostcodes(_ url: URL, countries: [String: CountryInfo]) throws -> [String: RegexPattern] {
        let (c, rows) = try readRows(url, required: ["country", "pattern"], spill: "pattern")
        let file = url.path
        var out: [String: RegexPattern] = [:]
        for (line, f) in rows {
            func fail(_ m: String) -> ReferenceDataError { ReferenceDataError(file: file, line: line, message: m) }
            let country = f[c["country"]!], pattern = f[c["pattern"]!]
            guard countries[country] != nil else { throw fail("unknown country '\(country)' (not in iso3166.csv)") }
            guard out[country] == nil else { throw fail("duplicate country '\(country)'") }
            guard let compiled = RegexPattern(pattern) else { throw fail("invalid pattern '\(pattern)'") }
            if let ei = c["example"], !f[ei].isEmpty, !compiled.matches(f[ei]) {
                throw fail("example '\(f[ei])' does not match pattern '\(pattern)'")
            }
            out[country] = compiled
        }
        return out
    }
}
