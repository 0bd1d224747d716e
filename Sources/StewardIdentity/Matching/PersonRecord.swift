import Foundation
import GRDB
import StewardCatalog

/// One staged person record, reduced to the normalised values matching compares. Empty arrays are
/// missing values.
public struct PersonRecord: Sendable {
    // The compared values first and the ids last: comparison reads a record's fields from the
    // start, so fewer of its cache lines are touched per pair.
    public var first: [UInt8] = []
    public var last: [UInt8] = []
    public var email: [UInt8] = []
    public var phone: [UInt8] = []
    public var dob: [UInt8] = []
    public var street: [UInt8] = []
    public var city: [UInt8] = []
    public var postcode: [UInt8] = []
    /// The state, province or county: tells namesakes apart where a record holds little more
    /// than a name (the address compares it with street, city and postcode).
    public var region: [UInt8] = []
    public var nationalId: [UInt8] = []
    // Derived once per record.
    var firstPhonetic: [UInt8] = []
    var lastPhonetic: [UInt8] = []
    /// Formal names a first (or, for swapped names, last) name can stand for; empty when not in the list.
    var firstFormal: [String] = []
    var lastFormal: [String] = []
    var houseNumber: Int?
    var firstCanonical: [UInt8] = []
    public var source: String
    public var key: String

    public var id: String { "\(source):\(key)" }

    /// Builds a record from staged values; `fullName` fills a missing first or last name
    /// ("Last, First" or "First Middle Last").
    public init(source: String, key: String, firstName: String?, lastName: String?, fullName: String? = nil,
                email: String? = nil, phone: String? = nil, dob: String? = nil, street: String? = nil,
                city: String? = nil, postcode: String? = nil, region: String? = nil, nationalId: String? = nil,
                nicknames: Nicknames = Nicknames(pairs: [])) {
        var codes = PhoneticCodes()
        self.init(source: source, key: key, firstName: firstName, lastName: lastName, fullName: fullName, email: email, phone: phone,
                  dob: dob, street: street, city: city, postcode: postcode, region: region, nationalId: nationalId, nicknames: nicknames,
                  codes: &codes)
    }

    init(source: String, key: String, firstName: String?, lastName: String?, fullName: String?,
         email: String?, phone: String?, dob: String?, street: String?, city: String?, postcode: String?, region: String? = nil,
         nationalId: String?, nicknames: Nicknames, codes: inout PhoneticCodes) {
        self.source = source
        self.key = key
        var f = firstName ?? "", l = lastName ?? ""
        if (f.isEmpty || l.isEmpty), let full = fullName, !full.isEmpty {
            let (pf, pl) = Self.splitFullName(full)
            if f.isEmpty { f = pf }
            if l.isEmpty { l = pl }
        }
        let fn = codes.name(f, nicknames: nicknames), ln = codes.name(l, nicknames: nicknames)
        first = fn.key
        last = ln.key
        self.email = Self.lowercased(email ?? "")
        self.phone = Self.phoneBytes(phone ?? "")
        self.dob = codes.bytes(dob ?? "")
        self.street = Self.bytes(street ?? "")
        self.city = codes.key(city ?? "")
        self.postcode = codes.key(postcode ?? "")
        self.region = codes.key(region ?? "")
        self.nationalId = Self.bytes(nationalId ?? "")
        firstPhonetic = fn.phonetic
        lastPhonetic = ln.phonetic
        firstCanonical = fn.canonical
        firstFormal = fn.formal
        lastFormal = ln.formal
        houseNumber = Compare.houseNumber(self.street)
    }

    static func bytes(_ s: String) -> [UInt8] { s.isEmpty ? [] : Array(TextKey.key(s).utf8) }

    /// `Array(s.lowercased().utf8)`, by bytes when the text is ASCII.
    static func lowercased(_ s: String) -> [UInt8] {
        var s = s
        return s.withUTF8 { buf in
            buf.allSatisfy { $0 < 0x80 } ? buf.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } : nil
        } ?? Array(s.lowercased().utf8)
    }

    /// The digits and plus signs of a phone (`Character.isNumber`), by bytes when the text is ASCII
    /// (where only 0–9 are numbers).
    static func phoneBytes(_ s: String) -> [UInt8] {
        var s = s
        return s.withUTF8 { buf in
            buf.allSatisfy { $0 < 0x80 } ? buf.filter { ($0 >= 48 && $0 <= 57) || $0 == 43 } : nil
        } ?? Array(s.filter { $0.isNumber || $0 == "+" }.utf8)
    }

    /// A name's derived values (all functions of the name as written), computed once per distinct
    /// name and per distinct city, postcode or birth date: a million records hold a few thousand
    /// names. Equal values come back as one shared array (one copy in memory, and equal arrays
    /// compare by identity).
    struct PhoneticCodes {
        struct Name {
            var key: [UInt8] = []
            var phonetic: [UInt8] = []
            var canonical: [UInt8] = []
            var formal: [String] = []
        }

        private var names: [String: Name] = [:]
        private var keys: [String: [UInt8]] = [:]
        private var raw: [String: [UInt8]] = [:]
        private var shared: Set<[UInt8]> = []

        mutating func name(_ value: String, nicknames: Nicknames) -> Name {
            if let n = names[value] { return n }
            let key = one(PersonRecord.bytes(value))
            let s = String(decoding: key, as: UTF8.self)
            let n = Name(key: key, phonetic: one(Array(Compare.nysiis(s).utf8)), canonical: one(Array(nicknames.canonical(s).utf8)),
                         formal: nicknames.formalNames(s))
            names[value] = n
            return n
        }

        mutating func key(_ value: String) -> [UInt8] {
            if let k = keys[value] { return k }
            let k = one(PersonRecord.bytes(value))
            keys[value] = k
            return k
        }

        /// The value's own bytes.
        mutating func bytes(_ value: String) -> [UInt8] {
            if let b = raw[value] { return b }
            let b = one(Array(value.utf8))
            raw[value] = b
            return b
        }

        private mutating func one(_ v: [UInt8]) -> [UInt8] {
            if v.isEmpty { return v }
            if let index = shared.firstIndex(of: v) { return shared[index] }
            shared.insert(v)
            return v
        }
    }

    /// "Smith, John" → (John, Smith); "John A Smith" → (John, Smith).
    static func splitFullName(_ full: String) -> (String, String) {
        if let comma = full.firstIndex(of: ",") {
            let last = full[..<comma].trimmingCharacters(in: .whitespaces)
            let rest = full[full.index(after: comma)...].split(separator: " ")
            return (rest.first.map(String.init) ?? "", last)
        }
        let words = full.split(separator: " ")
        guard words.count >= 2 else { return ("", words.first.map(String.init) ?? "") }
        return (String(words.first!), String(words.last!))
    }

    /// Every live staged person record, in (source, record_key) order. Values many records hold
    /// (names, their codes, birth dates, cities, postcodes) share one copy: at a million people
    /// the records are most of the matching pass's memory.
    public static func loadAll(_ db: Database, nicknames: Nicknames) throws -> [PersonRecord] {
        var out: [PersonRecord] = []
        // Rows are read here; records are opened (sealed values), built (normalised, coded, shared)
        // on another core, in order. Birth dates repeat across people and seal deterministically:
        // each distinct one is opened once.
        var codes = PhoneticCodes()
        let opener = VaultOpener(VaultBox.of(db))
        var dobs: [String: String] = [:]
        var pipe = BackgroundStage<Staged, PersonRecord>.Pipe(BackgroundStage("records") { r in
            var dob = r.values[5]
            if let stored = dob, opener.isOn {
                if let known = dobs[stored] { dob = known } else { dob = opener.open(stored); dobs[stored] = dob }
            }
            return PersonRecord(source: r.source, key: r.key, firstName: r.values[0], lastName: r.values[1], fullName: r.values[2],
                                email: opener.open(r.values[3]), phone: opener.open(r.values[4]), dob: dob,
                                street: opener.open(r.values[6]), city: r.values[7], postcode: r.values[8], region: r.values[9],
                                nationalId: opener.open(r.values[10]), nicknames: nicknames, codes: &codes)
        })
        func append(_ records: [PersonRecord]) { out.append(contentsOf: records) }
        var chunk: [Staged] = []
        chunk.reserveCapacity(Self.chunkSize)
        let rows = try Row.fetchCursor(db, sql: """
            SELECT source, record_key, first_name, last_name, full_name, email, phone, dob, street, city, postcode, region, national_id
            FROM staged_person WHERE is_deleted = 0 ORDER BY source, record_key
            """)
        while let r = try rows.next() {
            chunk.append(Staged(source: r[0], key: r[1], values: (2..<13).map { r[$0] }))
            if chunk.count == Self.chunkSize { try pipe.push(chunk, append); chunk.removeAll(keepingCapacity: true) }
        }
        try pipe.push(chunk, append)
        try pipe.drain(append)
        return out
    }

    static let chunkSize = 4_096

    /// A staged row as read (PII as stored, sealed when the vault is on): first, last and full name,
    /// email, phone, dob, street, city, postcode, region, national id.
    struct Staged: Sendable {
        var source: String
        var key: String
        var values: [String?]
    }

    public static func load(_ db: Database, source: String, key: String, nicknames: Nicknames) throws -> PersonRecord? {
        guard let r = try Row.fetchOne(db, sql: """
            SELECT source, record_key, first_name, last_name, full_name, vault_open(email), vault_open(phone), vault_open(dob),
                vault_open(street), city, postcode, region, vault_open(national_id)
            FROM staged_person WHERE source = ? AND record_key = ?
            """, arguments: [source, key]) else { return nil }
        return PersonRecord(source: r[0], key: r[1], firstName: r[2], lastName: r[3], fullName: r[4],
                            email: r[5], phone: r[6], dob: r[7], street: r[8], city: r[9], postcode: r[10],
                            region: r[11], nationalId: r[12], nicknames: nicknames)
    }
}
