import Foundation
import GRDB
import StewardCatalog

/// The address dimension: standardised, deduplicated addresses (`address_dim`) and which customers
/// have had them (`customer_address`), kept from the live person records after each matching pass.
public enum AddressDimension {
    /// The normalised form two spellings of one address share: "12 Main St." and "12 Main Street",
    /// "Hauptstr. 5" and "5 Hauptstraße". House numbers first, street words with their type
    /// abbreviated, letters and digits only.
    public static func normalisedStreet(_ street: String) -> String {
        var numbers: [String] = [], words: [String] = []
        for var t in tokens(street) {
            if isHouseNumber(t) { numbers.append(t); continue }
            if let short = abbreviations[t] { t = short }
            else if t.hasSuffix("strasse") { t = String(t.dropLast(7)) + "str" }
            words.append(t)
        }
        return (numbers + words).joined(separator: " ")
    }

    /// Lowercase runs of letters and digits, diacritics folded. ASCII streets (nearly all) take a byte
    /// loop; it made the 100k-customer pass 1.5 s faster than splitting Characters.
    static func tokens(_ street: String) -> [String] {
        var s = street
        let ascii: [String]? = s.withUTF8 { buf in
            var out: [String] = [], token: [UInt8] = []
            for b in buf {
                if b >= 0x80 { return nil }
                if (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) { token.append(b) }
                else if b >= 0x41 && b <= 0x5A { token.append(b + 32) }
                else if !token.isEmpty { out.append(String(decoding: token, as: UTF8.self)); token.removeAll(keepingCapacity: true) }
            }
            if !token.isEmpty { out.append(String(decoding: token, as: UTF8.self)) }
            return out
        }
        if let ascii { return ascii }
        return street.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { TextKey.key(String($0)) }.filter { !$0.isEmpty }
    }

    /// The key of an address in `address_dim`; nil without a street (a postcode alone is not an address).
    public static func hash(street: String?, postcode: String?, country: String?) -> String? {
        hashValue(street: street, postcode: postcode, country: country).map(CustomerDimension.hex)
    }

    /// `hash` as a number (its hex digits sort in the same order). Keyed by the vault when it is on:
    /// an address's key must not confirm a guessed address to someone holding only the catalog.
    static func hashValue(street: String?, postcode: String?, country: String?, vault: Vault? = nil) -> UInt64? {
        guard let street, case let s = normalisedStreet(street), !s.isEmpty else { return nil }
        let pc = postcode.map { TextKey.key($0) }
        if let vault { return vault.hash64([s, pc, country?.uppercased()]) }
        return CustomerDimension.changeHashValue([s, pc, country?.uppercased()])
    }

    /// Recomputes every address key under the vault's current key (or unkeyed when it is off):
    /// `steward vault enable|rotate`, inside their transaction.
    public static func rehash(_ db: Database) throws {
        let vault = VaultBox.of(db).current
        let update = try db.makeStatement(sql: "UPDATE address_dim SET address_hash = ? WHERE address_key = ?")
        for r in try Row.fetchAll(db, sql: "SELECT address_key, vault_open(street), postcode, country FROM address_dim") {
            guard let h = hashValue(street: r[1], postcode: r[2], country: r[3], vault: vault) else { continue }
            try update.execute(arguments: [CustomerDimension.hex(h), r[0] as Int64])
        }
    }

    /// The `source:record` behind the golden street, read from `Survivorship.json`'s flat object. A
    /// byte scan for one key, because decoding 100k objects with JSONSerialization took a second (and
    /// Foundation's `range(of:)` another at 200k).
    static func streetProvenance(_ json: String) -> String? {
        var json = json
        return json.withUTF8 { buf -> String? in
            let key = streetKey, n = buf.count
            var i = 0
            search: while i + key.count <= n {
                for j in key.indices where buf[i + j] != key[j] { i += 1; continue search }
                var out: [UInt8] = [], escaped = false
                for b in buf[(i + key.count)...] {
                    if escaped { out.append(b); escaped = false }
                    else if b == UInt8(ascii: "\\") { escaped = true }
                    else if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                    else { out.append(b) }
                }
                return nil
            }
            return nil
        }
    }

    private static let streetKey = Array("\"street\":\"".utf8)

    /// Whether `record` ("source:key", as in provenance) names this record, without building the string.
    static func isRecord(_ record: String, source: String, key: String) -> Bool {
        let r = record.utf8, s = source.utf8, k = key.utf8
        return r.count == s.count + 1 + k.count && r.starts(with: s) && r.dropFirst(s.count).first == UInt8(ascii: ":")
            && r.dropFirst(s.count + 1).elementsEqual(k)
    }

    /// "12", "12b", "1207": digits with at most one trailing letter ("2nd" is a street name).
    static func isHouseNumber(_ t: String) -> Bool {
        let digits = t.prefix { $0.isNumber }
        return !digits.isEmpty && t.count - digits.count <= 1
    }

    static let abbreviations: [String: String] = [
        "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr", "lane": "ln",
        "court": "ct", "grove": "gr", "place": "pl", "square": "sq", "highway": "hwy", "terrace": "ter", "parkway": "pkwy",
        "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
        "north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
    ]

    public struct Outcome: Sendable { public var addresses: Int; public var changedLinks: Int }

    /// One live record's address, as read for the update (the street as stored: sealed when the vault is on).
    struct AddressRow: Sendable {
        var customer: String, source: String, key: String
        var street: String, city: String?, postcode: String?, country: String?

        /// What the address key is computed from.
        struct Form: Hashable { var street: String, postcode: String?, country: String? }
        var form: Form { Form(street: street, postcode: postcode, country: country) }
    }

    static let chunkSize = 4_096

    /// Adds new addresses, moves `sources` and `is_current` of each customer's links, and zeroes the
    /// links no live record holds any more. Writes only what changed, apart from the last-seen run.
    @discardableResult
    public static func update(_ db: Database, runId: Int64, at: String) throws -> Outcome {
        // The record behind each golden street: its customer's current address.
        var streetRecord: [String: String] = [:]
        let golden = try Row.fetchCursor(db, sql: "SELECT customer_id, provenance_json FROM golden_customer WHERE street IS NOT NULL")
        while let r = try golden.next() {
            if let record = streetProvenance(r[1]) { streetRecord[r[0]] = record }
        }
        // Every live record's address, customer by customer (the rows come in customer order).
        // Addresses by their hash as a number (a million string keys hashed, compared and sorted took seconds).
        var firstForm: [UInt64: (street: String, city: String?, postcode: String?, country: String?)] = [:]
        firstForm.reserveCapacity(streetRecord.count)
        var held: [(customer: String, hashes: [(hash: UInt64, records: Int)], current: UInt64?)] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT m.customer_id, p.source, p.record_key, p.street, p.city, p.postcode, p.country
            FROM identity_member m JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
            WHERE p.is_deleted = 0 AND p.street IS NOT NULL
            ORDER BY m.customer_id, p.source, p.record_key
            """)
        var customer: String?, record: String?
        func consume(_ rows: [(row: AddressRow, hash: UInt64?)]) {
            for (r, h) in rows {
                guard let h else { continue }
                if firstForm[h] == nil { firstForm[h] = (r.street, r.city, r.postcode, r.country) }
                if r.customer != customer {
                    customer = r.customer
                    record = streetRecord[r.customer]
                    held.append((r.customer, [], nil))
                }
                let last = held.count - 1
                if let i = held[last].hashes.firstIndex(where: { $0.hash == h }) { held[last].hashes[i].records += 1 }
                else { held[last].hashes.append((h, 1)) }
                if let record, isRecord(record, source: r.source, key: r.key) { held[last].current = h }
            }
        }
        // Streets are opened (sealed), normalised and hashed on another core, a chunk of rows behind
        // the reads; `street` stays as stored, which is what a new address_dim row stores.
        let box = VaultBox.of(db)
        let vault = box.current, opener = VaultOpener(box)
        // A customer's records mostly repeat one address: each distinct one is opened and hashed once.
        var customerOfMemo = "", memo: [AddressRow.Form: UInt64?] = [:]
        var pipe = BackgroundStage<AddressRow, (row: AddressRow, hash: UInt64?)>.Pipe(BackgroundStage("addresses") { r in
            if r.customer != customerOfMemo { customerOfMemo = r.customer; memo.removeAll(keepingCapacity: true) }
            if let known = memo[r.form] { return (r, known) }
            let h = hashValue(street: opener.open(r.street), postcode: r.postcode, country: r.country, vault: vault)
            memo[r.form] = h
            return (r, h)
        })
        var chunk: [AddressRow] = []
        chunk.reserveCapacity(Self.chunkSize)
        while let r = try rows.next() {
            chunk.append(AddressRow(customer: r[0], source: r[1], key: r[2], street: r[3], city: r[4], postcode: r[5], country: r[6]))
            if chunk.count == Self.chunkSize {
                try pipe.push(chunk, consume)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try pipe.push(chunk, consume)
        try pipe.drain(consume)

        var keys: [UInt64: Int64] = [:]
        keys.reserveCapacity(firstForm.count)
        func readKeys(_ filter: String, _ arguments: StatementArguments = []) throws {
            let rows = try Row.fetchCursor(db, sql: "SELECT address_hash, address_key FROM address_dim" + filter, arguments: arguments)
            while let r = try rows.next() {
                if let h = UInt64(r[0] as String, radix: 16) { keys[h] = r[1] }
            }
        }
        try readKeys("")
        // Many rows per statement (`address_key` is AUTOINCREMENT); the new keys are read back after.
        var insertAddress = try BulkRows(db, insertInto: "address_dim", columns: [
            "address_hash", "street", "city", "postcode", "country", "first_seen_run", "last_seen_run", "first_seen_at", "last_seen_at"])
        var added = false
        for h in firstForm.keys.sorted() where keys[h] == nil {
            let f = firstForm[h]!
            // Stored as read when sealed under the current key (what sealing would give), else sealed now.
            let street: String
            if let vault, let parts = Vault.parts(f.street), parts.keyId == vault.keyId { street = f.street }
            else { street = try box.seal(opener.open(f.street) ?? f.street) }
            insertAddress.text(CustomerDimension.hex(h)); insertAddress.text(street); insertAddress.text(f.city); insertAddress.text(f.postcode)
            insertAddress.text(f.country); insertAddress.int(runId); insertAddress.int(runId); insertAddress.text(at); insertAddress.text(at)
            try insertAddress.endRow(db)
            added = true
        }
        try insertAddress.finish(db)
        if added { try readKeys(" WHERE first_seen_run = ?", [runId]) }

        // Each customer's links, in customer then address-key order.
        let wantedLinks = held.map { c in
            (customer: c.customer, links: c.hashes.map { (key: keys[$0.hash]!, sources: $0.records, current: c.current == $0.hash) }.sorted { $0.key < $1.key })
        }.sorted { $0.customer < $1.customer }
        var existing: [String: [Int64: (sources: Int, current: Bool)]] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT customer_id, address_key, sources, is_current FROM customer_address") {
            existing[r[0], default: [:]][r[1]] = (r[2], (r[3] as Int) == 1)
        }
        // Lookups by customer and key, needed only when links exist already (not on a first pass).
        var wanted: [String: [Int64: (sources: Int, current: Bool)]] = [:]
        if !existing.isEmpty {
            for c in wantedLinks { wanted[c.customer] = Dictionary(uniqueKeysWithValues: c.links.map { ($0.key, ($0.sources, $0.current)) }) }
        }
        let set = try db.makeStatement(sql: "UPDATE customer_address SET sources = ?, is_current = ? WHERE customer_id = ? AND address_key = ?")
        var changed = 0
        // Demote first: the unique index allows one current link per customer at every moment.
        for (customer, links) in existing.sorted(by: { $0.key < $1.key }) {
            for (key, old) in links.sorted(by: { $0.key < $1.key }) {
                let new = wanted[customer]?[key] ?? (0, false)
                if (old.current && !new.current) || (wanted[customer]?[key] == nil && old.sources != 0) {
                    try set.execute(arguments: [new.sources, false, customer, key])
                    existing[customer]![key] = (new.sources, false)
                    changed += 1
                }
            }
        }
        var deferred = DeferredIndexes()
        try deferred.drop(db, table: "customer_address", ifEmpty: true)
        var insertLink = try BulkRows(db, insertInto: "customer_address",
                                      columns: ["customer_id", "address_key", "sources", "is_current", "first_seen_run", "last_seen_run"])
        for (customer, links) in wantedLinks {
            for (key, sources, current) in links {
                let new = (sources: sources, current: current)
                if let old = existing[customer]?[key] {
                    if old.sources != new.sources || old.current != new.current {
                        try set.execute(arguments: [new.sources, new.current, customer, key])
                        changed += 1
                    }
                } else {
                    insertLink.text(customer); insertLink.int(key); insertLink.int(new.sources); insertLink.int(new.current)
                    insertLink.int(runId); insertLink.int(runId)
                    try insertLink.endRow(db)
                    changed += 1
                }
            }
        }
        try insertLink.finish(db)
        try deferred.restore(db)
        try db.execute(sql: "UPDATE customer_address SET last_seen_run = ? WHERE sources > 0 AND last_seen_run != ?", arguments: [runId, runId])
        try db.execute(sql: """
            UPDATE address_dim SET last_seen_run = ?1, last_seen_at = ?2
            WHERE last_seen_run != ?1 AND address_key IN (SELECT address_key FROM customer_address WHERE sources > 0)
            """, arguments: [runId, at])
        return Outcome(addresses: firstForm.count, changedLinks: changed)
    }
}
