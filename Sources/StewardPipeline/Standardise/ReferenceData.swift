import Foundation

/// One row of data/iso3166.csv.
public struct CountryInfo: Sendable, Equatable {
    public let alpha2: String
    public let alpha3: String
    public let numeric: String
    public let name: String
    /// Digits without "+", nil when the country has none (Antarctica…).
    public let callingCode: String?
    /// National trunk prefix ("0", "1", "8", "06"…), nil when none.
    public let trunkPrefix: String?
    /// Length of the national significant number (without trunk prefix), when known.
    public let nationalLengths: ClosedRange<Int>?
}

/// Country and postcode reference data (data/iso3166.csv, data/postcodes.csv).
public struct ReferenceData: Sendable {
    /// alpha-2 → row.
    public let countries: [String: CountryInfo]
    /// Normalised alias (lowercase ASCII letters/digits) → alpha-2.
    let lookup: [String: String]
    /// Calling code → union of national lengths of every country using it (+1 covers US, CA, …).
    let callingCodeLengths: [String: ClosedRange<Int>]
    /// Calling code → trunk prefix of the countries using it (first non-nil).
    let callingCodeTrunk: [String: String]
    /// Every calling code in use.
    let knownCallingCodes: Set<String>
    /// alpha-2 → compiled postcode pattern.
    let postcodePatterns: [String: RegexPattern]

    init(countries: [String: CountryInfo], postcodePatterns: [String: RegexPattern]) {
        self.countries = countries
        self.postcodePatterns = postcodePatterns
        var lengths: [String: ClosedRange<Int>] = [:]
        var trunks: [String: String] = [:]
        // Sorted so that the result does not depend on dictionary order.
        for info in countries.values.sorted(by: { $0.alpha2 < $1.alpha2 }) {
            guard let cc = info.callingCode else { continue }
            if let r = info.nationalLengths {
                if let old = lengths[cc] {
                    lengths[cc] = min(old.lowerBound, r.lowerBound)...max(old.upperBound, r.upperBound)
                } else {
                    lengths[cc] = r
                }
            }
            if trunks[cc] == nil, let t = info.trunkPrefix { trunks[cc] = t }
        }
        callingCodeLengths = lengths
        knownCallingCodes = Set(countries.values.compactMap(\.callingCode))
        callingCodeTrunk = trunks
        lookup = Self.buildLookup(countries)
    }

    /// ISO alpha-2 for a code or name: "us", "USA", "840", "United States", "U.S.A.", "uk", "Deutschland" → "US"/"GB"/"DE".
    public func country(_ raw: String) -> String? {
        // Fast path: already a canonical alpha-2.
        let u = raw.utf8
        if u.count == 2, let f = u.first, let l = u.last, f >= 65, f <= 90, l >= 65, l <= 90,
           countries[raw] != nil {
            return raw
        }
        let key = Self.countryKey(raw)
        if key.isEmpty { return nil }
        if let hit = lookup[key] { return hit }
        // Numeric codes written without leading zeros ("76" for 076).
        if key.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), key.utf8.count < 3 {
            return lookup[String(repeating: "0", count: 3 - key.utf8.count) + key]
        }
        if key.hasPrefix("the"), let hit = lookup[String(key.dropFirst(3))] { return hit }
        return nil
    }

    /// Calling code digits ("1", "44") for an alpha-2 (or anything `country(_:)` understands).
    public func callingCode(forCountry alpha2: String) -> String? {
        if let info = countries[alpha2] { return info.callingCode }
        guard let a2 = country(alpha2) else { return nil }
        return countries[a2]?.callingCode
    }

    /// The row for an alpha-2 (or anything `country(_:)` understands).
    public func info(_ country: String) -> CountryInfo? {
        if let info = countries[country] { return info }
        guard let a2 = self.country(country) else { return nil }
        return countries[a2]
    }

    /// Lowercase ASCII letters and digits only, diacritics stripped: the key for country lookups.
    static func countryKey(_ raw: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.utf8.count)
        var ascii = true
        for b in raw.utf8 {
            if b >= 0x80 { ascii = false; break }
            if b >= 65 && b <= 90 { out.append(b + 32) }
            else if (b >= 97 && b <= 122) || (b >= 48 && b <= 57) { out.append(b) }
        }
        if ascii { return String(decoding: out, as: UTF8.self) }
        return TextNormalizer.matchingKey(raw)
    }

    private static func buildLookup(_ countries: [String: CountryInfo]) -> [String: String] {
        var map: [String: String] = [:]
        let rows = countries.values.sorted { $0.alpha2 < $1.alpha2 }
        // Earlier passes win: codes beat names beat aliases.
        for r in rows { map[countryKey(r.alpha2)] = r.alpha2 }
        for r in rows where map[countryKey(r.alpha3)] == nil { map[countryKey(r.alpha3)] = r.alpha2 }
        for r in rows where !r.numeric.isEmpty && map[r.numeric] == nil { map[r.numeric] = r.alpha2 }
        for r in rows where map[countryKey(r.name)] == nil { map[countryKey(r.name)] = r.alpha2 }
        // Variants of the ISO short names: "Congo, The Democratic Republic of the" → "The Democratic
        // Republic of the Congo" (and without "The"); "Micronesia, Federated States of" → "Micronesia"
        // (only when no other name shares that head: not "Virgin Islands"); "Holy See (Vatican City
        // State)" → "Holy See"; "Saint Lucia" → "St Lucia".
        var heads: [String: Int] = [:]
        for r in rows { if let c = r.name.firstIndex(of: ",") { heads[countryKey(String(r.name[..<c])), default: 0] += 1 } }
        for r in rows {
            var variants: [String] = []
            if let comma = r.name.firstIndex(of: ",") {
                let head = String(r.name[..<comma])
                let tail = String(r.name[r.name.index(after: comma)...])
                variants.append(tail + " " + head)
                if heads[countryKey(head)] == 1 { variants.append(head) }
            }
            if let paren = r.name.firstIndex(of: "(") { variants.append(String(r.name[..<paren])) }
            if r.name.hasPrefix("Saint ") { variants.append("St" + r.name.dropFirst(5)) }
            for v in variants {
                var k = countryKey(v)
                if map[k] == nil { map[k] = r.alpha2 }
                if k.hasPrefix("the") {
                    k.removeFirst(3)
                    if map[k] == nil { map[k] = r.alpha2 }
                }
            }
        }
        for (alias, a2) in countryAliases where countries[a2] != nil {
            let k = countryKey(alias)
            if map[k] == nil { map[k] = a2 }
        }
        return map
    }

    // Common English and native names absent from the ISO short names.
    static let countryAliases: [(String, String)] = [
        ("UK", "GB"), ("U.K.", "GB"), ("Great Britain", "GB"), ("Britain", "GB"), ("England", "GB"),
        ("Scotland", "GB"), ("Wales", "GB"), ("Northern Ireland", "GB"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("America", "US"), ("United States of America", "US"), ("U.S. of A.", "US"),
        ("Holland", "NL"), ("Nederland", "NL"),
        ("Deutschland", "DE"), ("Allemagne", "DE"), ("España", "ES"), ("Italia", "IT"),
        ("Österreich", "AT"), ("Schweiz", "CH"), ("Suisse", "CH"), ("Svizzera", "CH"),
        ("Sverige", "SE"), ("Norge", "NO"), ("Danmark", "DK"), ("Suomi", "FI"), ("Polska", "PL"),
        ("Brasil", "BR"), ("Éire", "IE"), ("Republic of Ireland", "IE"), ("Nippon", "JP"),
        ("Russia", "RU"), ("Korea", "KR"), ("Republic of Korea", "KR"), ("South Korea", "KR"),
        ("North Korea", "KP"), ("Vietnam", "VN"), ("Viet Nam", "VN"), ("Iran", "IR"),
        ("Syria", "SY"), ("Laos", "LA"), ("Bolivia", "BO"), ("Venezuela", "VE"), ("Tanzania", "TZ"),
        ("Moldova", "MD"), ("Czech Republic", "CZ"), ("Czechia", "CZ"), ("Turkey", "TR"),
        ("Türkiye", "TR"), ("Ivory Coast", "CI"), ("Cote d'Ivoire", "CI"), ("Macedonia", "MK"),
        ("North Macedonia", "MK"), ("Burma", "MM"), ("Swaziland", "SZ"), ("Cape Verde", "CV"),
        ("Vatican", "VA"), ("Holy See", "VA"), ("Palestine", "PS"), ("Taiwan", "TW"),
        ("DRC", "CD"), ("DR Congo", "CD"), ("Congo-Kinshasa", "CD"), ("Congo-Brazzaville", "CG"),
        ("UAE", "AE"), ("Emirates", "AE"), ("Micronesia", "FM"), ("Brunei", "BN"),
        ("Macau", "MO"), ("Myanmar", "MM"), ("Eswatini", "SZ"), ("Cabo Verde", "CV"),
    ]

    // MARK: - Locating and sharing

    /// The reference data directory: $STEWARD_DATA_DIR, else `data/` found walking up from this
    /// source file, else next to the executable (`<exe>/../../data`, `<exe>/data`).
    public static func locateDataDirectory() -> URL? {
        let fm = FileManager.default
        func hasData(_ dir: URL) -> Bool {
            fm.fileExists(atPath: dir.appendingPathComponent("iso3166.csv").path)
        }
        if let env = ProcessInfo.processInfo.environment["STEWARD_DATA_DIR"], !env.isEmpty {
            // Returned even when wrong, so that the caller's error names the configured path.
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !dir.path.isEmpty {
            let candidate = dir.appendingPathComponent("data", isDirectory: true)
            if hasData(candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        var exeURLs: [URL] = []
        if let u = Bundle.main.executableURL { exeURLs.append(u) }
        if let arg0 = CommandLine.arguments.first, !arg0.isEmpty {
            exeURLs.append(URL(fileURLWithPath: arg0))
        }
        for exe in exeURLs {
            let exeDir = exe.resolvingSymlinksInPath().deletingLastPathComponent()
            for rel in ["../../data", "data", "../share/steward/data"] {
                let candidate = exeDir.appendingPathComponent(rel, isDirectory: true).standardizedFileURL
                if hasData(candidate) { return candidate }
            }
        }
        return nil
    }

    /// Loaded once, on first use, from `locateDataDirectory()`.
    public static let shared: ReferenceData = {
        guard let dir = locateDataDirectory() else {
            fatalError("""
                steward: reference data not found (data/iso3166.csv, data/postcodes.csv). \
                Set STEWARD_DATA_DIR to the folder holding them.
                """)
        }
        do {
            return try load(from: dir)
        } catch {
            fatalError("steward: cannot load reference data: \(error)")
        }
    }()
}
