/// The reference lists as UTF-8 bytes, with the derived forms noise needs (accent-folded names, e-mail
/// keys, nicknames). Built once per process.
struct DemoPools: Sendable {
    static let shared = DemoPools()

    /// Given names: 0…5 by 2 * country + (female ? 1 : 0), 6 East Asian.
    let first: [DemoNamePool]
    /// Family names: 0…2 by country, 3 East Asian.
    let last: [DemoNamePool]
    let cityNames: [[[UInt8]]]
    let foldedCityNames: [[[UInt8]]]
    let cityRegions: [[[UInt8]]]
    let outward: [[[UInt8]]]
    let streetShort: [[[UInt8]]]
    let streetLong: [[[UInt8]]]
    let mailDomains: [[UInt8]]
    let companies: [[UInt8]]
    let countryCodes: [[UInt8]]

    static let plusOne: [UInt8] = Array("+1".utf8)
    static let plusOneSpace: [UInt8] = Array("+1 ".utf8)
    static let oneDash: [UInt8] = Array("1-".utf8)
    static let plus44: [UInt8] = Array("+44".utf8)
    static let plus49: [UInt8] = Array("+49".utf8)
    static let doubleZero: [UInt8] = Array("00".utf8)
    static let parenZero: [UInt8] = Array(" (0)".utf8)
    /// Letters used in the inward half of UK postcodes.
    static let inwardLetters: [UInt8] = Array("ABDEFGHJLNPQRSTUWXYZ".utf8)

    private init() {
        var interned: [String: Int32] = [:]
        // Ids 0…25 are the initials a…z.
        for (i, c) in "abcdefghijklmnopqrstuvwxyz".enumerated() { interned[String(c)] = Int32(i) }
        let east = DemoReference.eastAsianNames
        var first: [DemoNamePool] = []
        for (i, names) in DemoReference.firstNames.enumerated() {
            first.append(DemoNamePool(names, native: nil, german: i >= 4, &interned))
        }
        first.append(DemoNamePool(east.map(\.0), native: east.map(\.2), german: false, &interned))
        var last: [DemoNamePool] = []
        for (i, names) in DemoReference.lastNames.enumerated() {
            last.append(DemoNamePool(names, native: nil, german: i == 2, &interned))
        }
        last.append(DemoNamePool(east.map(\.1), native: east.map(\.3), german: false, &interned))
        self.first = first
        self.last = last
        cityNames = DemoReference.cities.map { $0.map { Array($0.name.utf8) } }
        foldedCityNames = DemoReference.cities.enumerated().map { c, cities in
            cities.map { Array(DemoPools.fold($0.name, german: c == 2).utf8) }
        }
        cityRegions = DemoReference.cities.map { $0.map { Array($0.region.utf8) } }
        outward = DemoReference.cities[1].map { $0.outward.map { Array($0.utf8) } }
        streetShort = DemoReference.streets.map { $0.map { Array($0.0.utf8) } }
        streetLong = DemoReference.streets.map { $0.map { Array($0.1.utf8) } }
        mailDomains = DemoReference.mailDomains.map { Array($0.utf8) }
        companies = DemoReference.companies.map { Array($0.utf8) }
        countryCodes = DemoReference.countryCodes.map { Array($0.utf8) }
    }

    /// ASCII-folds a name the way an English keyboard (or German convention, `ü` → `ue`) would.
    static func fold(_ s: String, german: Bool) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "ä": out += german ? "ae" : "a"
            case "ö": out += german ? "oe" : "o"
            case "ü": out += german ? "ue" : "u"
            case "Ä": out += german ? "Ae" : "A"
            case "Ö": out += german ? "Oe" : "O"
            case "Ü": out += german ? "Ue" : "U"
            case "ß": out += "ss"
            case "é", "è", "ê", "ë": out += "e"
            case "á", "à", "â": out += "a"
            case "í", "ì", "î", "ï": out += "i"
            case "ó", "ò", "ô", "ø": out += "o"
            case "ú", "ù", "û": out += "u"
            case "ñ": out += "n"
            case "ç": out += "c"
            case "É": out += "E"
            default: out.append(ch)
            }
        }
        return out
    }
}

/// One list of names with its derived forms, index-aligned.
struct DemoNamePool: Sendable {
    let names: [[UInt8]]
    /// Accent-folded (`Müller` → `Mueller` for German lists, `José` → `Jose`).
    let folded: [[UInt8]]
    /// Lowercase a–z only, for e-mail local parts (`O'Brien` → `obrien`).
    let emailKey: [[UInt8]]
    let emailID: [Int32]
    let initialID: [Int32]
    /// Capitalised nicknames from `DemoNicknames` (empty when the name has none).
    let nicknames: [[[UInt8]]]
    /// Native script (East Asian pools only).
    let native: [[UInt8]]

    var count: Int { names.count }

    init(_ list: [String], native: [String]?, german: Bool, _ interned: inout [String: Int32]) {
        names = list.map { Array($0.utf8) }
        let foldedStrings = list.map { DemoPools.fold($0, german: german) }
        folded = foldedStrings.map { Array($0.utf8) }
        var keys: [[UInt8]] = []
        var ids: [Int32] = []
        var initials: [Int32] = []
        for f in foldedStrings {
            let key = String(f.lowercased().unicodeScalars.filter { $0 >= "a" && $0 <= "z" })
            if interned[key] == nil { interned[key] = Int32(interned.count) }
            keys.append(Array(key.utf8))
            ids.append(interned[key]!)
            initials.append(Int32(key.utf8.first! - 0x61))
        }
        emailKey = keys
        emailID = ids
        initialID = initials
        nicknames = list.map { name in
            (DemoNicknames.byName[name.lowercased()] ?? []).map { Array(($0.prefix(1).uppercased() + $0.dropFirst()).utf8) }
        }
        self.native = (native ?? []).map { Array($0.utf8) }
    }
}
