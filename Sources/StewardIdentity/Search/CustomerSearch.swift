import Foundation
import GRDB
import StewardCatalog

/// Customer lookup over an FTS5 index of every name, email, phone, postcode and id of a customer's
/// records. Names also match by sound (NYSIIS), so a misspelt name still finds the person; phones
/// match whatever way they are written (the last 7+ digits, `phoneToken`).
public enum CustomerSearch {
    public struct Hit: Sendable, Codable, Equatable {
        public var customerId: String
        public var name: String
        public var email: String?
        public var phone: String?
        public var city: String?
        public var rank: Int
        public var score: Double
    }

    /// Brings the index up to date after a matching pass: `prepare`, an entry per customer in scope
    /// (`Entries`, `Inserter`), `finish`. A matching pass writes the entries as it builds golden
    /// records; this reads the customers' records itself.
    static func update(_ db: Database, scope: ChangedCustomers) throws -> ChangedCustomers {
        let scope = try prepare(db, scope: scope)
        var inserter = try Inserter(db)
        var entries = Entries(tokens: try SearchTokens(db))
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT m.customer_id, p.record_key, p.first_name, p.last_name, p.full_name, vault_open(p.email), vault_open(p.phone),
                p.postcode, vault_open(p.national_id)
            FROM identity_member m JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
            WHERE p.is_deleted = 0\(scope.filter(column: "m.customer_id", keyword: "AND")) ORDER BY m.customer_id
            """)
        var current: String?
        var records: [Terms] = []
        while let r = try cursor.next() {
            let id: String = r[0]
            if id != current {
                if let current { try inserter.write(db, id: current, fields: entries.fields(id: current, records)) }
                current = id
                records.removeAll(keepingCapacity: true)
            }
            records.append(Terms(recordKey: r[1], names: [r[2], r[3], r[4]], email: r[5], phone: r[6], postcode: r[7], nationalId: r[8]))
        }
        if let current { try inserter.write(db, id: current, fields: entries.fields(id: current, records)) }
        try finish(db, scope: scope)
        return scope
    }

    /// Removes the entries about to be rewritten: the changed customers' for an incremental pass, else
    /// all (dropping an FTS5 table is much cheaper than deleting each row). An entry's rowid is its
    /// customer number, so replacing one is a rowid lookup. Returns the scope the pass must write:
    /// `.all` when the index predates customer-number rowids.
    static func prepare(_ db: Database, scope: ChangedCustomers) throws -> ChangedCustomers {
        var scope = scope
        if scope.isIncremental, !(try usesCustomerRowids(db)) { scope = .all }
        if scope.isIncremental {
            try db.execute(sql: """
                DELETE FROM customer_search WHERE rowid IN (
                    SELECT CAST(substr(customer_id, 2) AS INTEGER) FROM temp.identity_changed)
                """)
        } else {
            try db.execute(sql: "DROP TABLE IF EXISTS customer_search")
            try db.execute(sql: IdentitySchema.customerSearchDDL)
            try db.execute(sql: "DELETE FROM customer_search_name")
            // A whole rebuild merges its segments once at the end instead of as it goes: 25 % less FTS5
            // work (200k customers: 7.6 → 5.2 s user; BENCHMARKS.md). Incremental passes keep automerge.
            try db.execute(sql: "INSERT INTO customer_search(customer_search, rank) VALUES ('automerge', 0)")
        }
        return scope
    }

    /// After a whole rebuild: one merge, and automerge back on for the incremental passes.
    static func finish(_ db: Database, scope: ChangedCustomers) throws {
        guard !scope.isIncremental else { return }
        try db.execute(sql: "INSERT INTO customer_search(customer_search) VALUES ('optimize')")
        try db.execute(sql: "INSERT INTO customer_search(customer_search, rank) VALUES ('automerge', \(Self.automerge))")
    }

    /// What one staged record puts in its customer's entry: its key, its first, last and full name as
    /// staged, and its identifiers.
    struct Terms: Sendable {
        var recordKey: String
        var names: [String?]
        var email: String?
        var phone: String?
        var postcode: String?
        var nationalId: String?
    }

    /// Builds customers' index entries (no database: a matching pass builds them on another core).
    struct Entries {
        /// What identifiers are indexed as (blind tokens when the vault is on).
        let tokens: SearchTokens
        init(tokens: SearchTokens = SearchTokens()) { self.tokens = tokens }
        /// A name's sound, computed once per distinct name of the pass (names repeat across customers).
        private var soundOf: [String: String] = [:]
        /// A name word's or postcode's key, likewise.
        private var keyOf: [String: String] = [:]

        private mutating func key(_ s: String) -> String {
            if let k = keyOf[s] { return k }
            let k = TextKey.key(s)
            keyOf[s] = k
            return k
        }
        private var names = Set<String>(), sounds = Set<String>(), emails = Set<String>(), phones = Set<String>()
        private var postcodes = Set<String>(), ids = Set<String>()
        /// The identifiers already tokenized for this customer, as written: a person's records mostly
        /// repeat them, and with the vault on each token is an HMAC.
        private var tokenized = Set<String>()
        /// Name words this pass has not written before (each is sounded once, in `soundOf`).
        private var newNames: [String] = []

        /// The entry's columns after `customer_id` (names, sounds, emails, phones, postcodes, ids),
        /// then the name words first seen in this pass, for `customer_search_name`.
        mutating func fields(id: String, _ records: [Terms]) -> [String] {
            names.removeAll(keepingCapacity: true); sounds.removeAll(keepingCapacity: true)
            emails.removeAll(keepingCapacity: true); phones.removeAll(keepingCapacity: true)
            postcodes.removeAll(keepingCapacity: true); ids.removeAll(keepingCapacity: true)
            newNames.removeAll(keepingCapacity: true); tokenized.removeAll(keepingCapacity: true)
            for r in records { add(r) }
            ids.insert(id)
            return [names, sounds, emails, phones, postcodes, ids].map { $0.sorted().joined(separator: " ") } + [newNames.joined(separator: " ")]
        }

        private mutating func add(_ r: Terms) {
            ids.insert(r.recordKey)
            for n in r.names {
                guard let n else { continue }
                for w in n.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }) {
                    let k = key(String(w))
                    guard !k.isEmpty else { continue }
                    names.insert(k)
                    if let sound = soundOf[k] { sounds.insert(sound) } else {
                        let sound = Compare.nysiis(k).lowercased()
                        soundOf[k] = sound
                        sounds.insert(sound)
                        newNames.append(k)
                    }
                }
            }
            if let email = r.email, tokenized.insert("e" + email).inserted { emails.insert(tokens.email(email)) }
            if let phone = r.phone, tokenized.insert("p" + phone).inserted, let token = tokens.phone(phone) { phones.insert(token) }
            if let postcode = r.postcode {
                postcodes.insert(key(postcode))
                // "M4 7QJ" is typed as two words: each part is a token too.
                for part in postcode.split(separator: " ") where part.count >= 2 { postcodes.insert(key(String(part))) }
            }
            if let nationalId = r.nationalId, tokenized.insert("n" + nationalId).inserted {
                if tokens.vault == nil { ids.insert(tokens.nationalId(nationalId)) } else { phones.insert(tokens.nationalId(nationalId)) }
            }
        }
    }

    /// Inserts entries; the rowid is the customer number. Each name word is added to
    /// `customer_search_name` the first time the pass writes it: `Entries` lists those words after
    /// the columns (it sounds each word once anyway); for fields without that list, the writer
    /// looks each word up itself (1M entries: 0.7 s, on the thread that writes).
    struct Inserter {
        private var insert: BulkStatement
        private var insertName: BulkStatement
        private var named = Set<Substring>()

        init(_ db: Database) throws {
            insert = try BulkStatement(db, sql: """
                INSERT INTO customer_search (rowid, customer_id, names, sounds, emails, phones, postcodes, ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            insertName = try BulkStatement(db, sql: "INSERT OR IGNORE INTO customer_search_name (term) VALUES (?)")
        }

        mutating func write(_ db: Database, id: String, fields: [String]) throws {
            insert.int(StableIdAssigner.number(id)); insert.text(id)
            for f in fields.prefix(6) { insert.text(f) }
            try insert.run(db)
            let new = fields.count > 6 ? fields[6].split(separator: " ") : fields[0].split(separator: " ").filter { named.insert($0).inserted }
            for w in new {
                insertName.text(String(w))
                try insertName.run(db)
            }
        }
    }

    /// Before erasing customers' entries: their name words that no other entry holds leave the
    /// list of names too (a name is personal data).
    static func forgetNames(_ db: Database, customerIds: [String]) throws {
        guard !customerIds.isEmpty else { return }
        let marks = Array(repeating: "?", count: customerIds.count).joined(separator: ",")
        let names = try String.fetchAll(db, sql: "SELECT COALESCE(names, '') FROM customer_search WHERE customer_id IN (\(marks))",
                                        arguments: StatementArguments(customerIds))
        let ids = Set(customerIds)
        for w in Set(names.flatMap { $0.split(separator: " ").map(String.init) }) {
            let holders = try String.fetchAll(db, sql: "SELECT customer_id FROM customer_search WHERE customer_search MATCH ?",
                                              arguments: ["names:" + quoted(w)])
            if holders.allSatisfy(ids.contains) {
                try db.execute(sql: "DELETE FROM customer_search_name WHERE term = ?", arguments: [w])
            }
        }
    }

    /// A term as an FTS5 string (the tokenizer splits it as it split the indexed word).
    static func quoted(_ term: String) -> String {
        "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// FTS5's default: merge once 4 segments of a level exist.
    static let automerge = 4

    /// Indexes built before entries were keyed by customer number must be rebuilt once.
    private static func usesCustomerRowids(_ db: Database) throws -> Bool {
        guard let row = try Row.fetchOne(db, sql: "SELECT rowid, customer_id FROM customer_search LIMIT 1") else { return true }
        return StableIdAssigner.number(row[1] as String) == (row[0] as Int64)
    }

    /// The entries' format, part of a matching pass's fingerprint: a catalog indexed in another
    /// format has its index rebuilt whole by the next pass (until then `phoneQuery` still finds its
    /// phones). 3: a phone as one marked, backwards token.
    static let indexFormat = "lookup-format-3"

    /// A phone's index token: a mark, then its digits backwards ("+1 555 123 4567" → "p76543215551").
    /// A phone is found by its last digits, however many were typed, as a prefix query on this one
    /// token (`phoneQuery`); a token per suffix of 7 digits and more was five tokens per phone, 28 %
    /// of the index's build at a million customers (BENCHMARKS.md, "Seventh session"). The mark keeps
    /// these tokens apart from the digits-only tokens of an index of the earlier format.
    static func phoneToken(_ phone: String) -> String? {
        if phone.utf8.allSatisfy({ $0 < 0x80 }) {
            let digits = phone.utf8.filter { $0 >= 0x30 && $0 <= 0x39 }
            return digits.isEmpty ? nil : phoneMark + String(decoding: digits.reversed(), as: UTF8.self)
        }
        let digits = phone.filter(\.isNumber)
        return digits.isEmpty ? nil : phoneMark + String(digits.reversed())
    }

    /// A letter: the tokenizer keeps it and the digits after it as one token.
    static let phoneMark = "p"

    /// The query for phones ending with these digits' last 10 (a number typed with or without its
    /// country code finds the same phones): a prefix of the marked backwards token, or the digits
    /// as one token, which is how an index of the earlier format holds them until the next matching
    /// pass rebuilds it (a catalog opened by a newer console before its next run). Neither
    /// alternative can match a token of the other format.
    static func phoneQuery(_ digits: some StringProtocol) -> String {
        let last = String(digits.suffix(10))
        return "phones:(\"" + phoneMark + String(last.reversed()) + "\"* OR \"" + last + "\")"
    }

    /// An entry's phones column as the digits were written, for the ranking: marked tokens turned
    /// back, the earlier format's digit tokens as they are.
    static func phonesAsWritten(_ column: String) -> String {
        // Most columns have no marked token (a sealed index holds blind tokens): returned as they are,
        // which is what splitting and joining them gives when no space is doubled or at an end.
        let bytes = column.utf8, markByte = phoneMark.utf8.first!
        var marked = bytes.first == UInt8(ascii: " ") || bytes.last == UInt8(ascii: " ")
        var previous = UInt8(ascii: " ")
        for b in bytes where !marked {
            if previous == UInt8(ascii: " ") && (b == markByte || b == UInt8(ascii: " ")) { marked = true }
            previous = b
        }
        if !marked { return column }
        return column.split(separator: " ").map { t in
            t.hasPrefix(phoneMark) ? String(t.dropFirst(phoneMark.count).reversed()) : String(t)
        }.joined(separator: " ")
    }

    /// Searches and records how long the lookup took (for the query-performance KPI).
    public static func timedSearch(_ catalog: Catalog, query: String, limit: Int = 20) throws -> [Hit] {
        let started = Date()
        let hits = try catalog.pool.read { try search($0, query: query, limit: limit) }
        let ms = Date().timeIntervalSince(started) * 1000
        try? catalog.pool.write { db in
            try db.execute(sql: "INSERT INTO customer_lookup_timing (at, duration_ms, results) VALUES (?, ?, ?)",
                           arguments: [Timestamp.string(started), ms, hits.count])
        }
        return hits
    }

    /// Searches by name (prefix or sound), email, phone in any format, postcode or id; ranked by how
    /// closely the golden record matches the query, over a bounded candidate set.
    public static func search(_ db: Database, query: String, limit: Int = 20) throws -> [Hit] {
        var work = Work()
        return try search(db, query: query, limit: limit, work: &work)
    }

    /// What a lookup read: candidate queries asked (`ranked` of them ordered by FTS5's rank, which
    /// ranks every match), entries read and bounded, golden rows scored.
    struct Work: Equatable {
        var queries = 0, entries = 0, golden = 0, ranked = 0
    }

    static func search(_ db: Database, query: String, limit: Int, work: inout Work) throws -> [Hit] {
        let tokens = SearchTokens(vault: VaultBox.of(db).current)
        let sealed = try sealedIndex(db)
        if sealed, let identifier = tokens.identifierQuery(query) {
            let hits = try identifierHits(db, match: identifier, limit: limit)
            if !hits.isEmpty { return hits }
        }
        try mapForLookups(db)
        // A half-typed last word completes to the index's names that start with it: FTS5 merges the
        // whole doclist of every term of a prefix before its first row (`james smith*`: 4.1 ms at a
        // million customers, `james (smith OR smithson …)`: 1.3 ms; BENCHMARKS.md, session 22).
        // Asked by several of the queries below for the same words: looked up once per word.
        var completed: [String: [String]?] = [:]
        let completions: (String) -> [String]? = { word in
            if let known = completed[word] { return known }
            let names = try? namesStarting(db, with: word)
            completed[word] = .some(names)
            return names
        }
        guard let match = ftsQuery(query, sealed: sealed, completions: completions) else { return [] }
        // Candidates are found by rowid alone (the index, not the entries' content); an entry's
        // content is read once per new candidate, its golden row only when it may rank (below). At a
        // million customers each row read is a few scattered pages of a 4 GB file.
        func candidates(_ match: String, ranked: Bool = false, limit: Int = candidateLimit) throws -> [Int64] {
            work.queries += 1
            if ranked { work.ranked += 1 }
            return try Int64.fetchAll(db, sql: """
                SELECT rowid FROM customer_search WHERE customer_search MATCH ? \(ranked ? "ORDER BY rank" : "") LIMIT \(limit)
                """, arguments: [match])
        }
        let words = query.split(whereSeparator: { $0 == " " || $0 == "," }).map { TextKey.key(String($0)) }.filter { !$0.isEmpty }
        var scorer = Scorer(words: words)
        var found: [Candidate] = []
        func add(_ rowids: [Int64]) throws {
            guard !rowids.isEmpty else { return }
            // A cursor decodes each row in place (a fetched array copied all 500 first).
            let rows = try Row.fetchCursor(db, sql: """
                SELECT customer_id, names, emails, phones, postcodes, ids FROM customer_search
                WHERE rowid IN (\(rowids.map(String.init).joined(separator: ",")))
                """)
            while let r = try rows.next() {
                var c = Candidate(customerId: r[0], names: r[1] ?? "", identifiers: [r[2] ?? "", phonesAsWritten(r[3] ?? ""), r[4] ?? "", r[5] ?? ""])
                (c.bound, c.weakestBound) = scorer.bound(names: c.names, identifiers: c.identifiers)
                found.append(c)
                work.entries += 1
            }
        }
        /// Reads these candidates' golden rows and scores them exactly.
        func score(_ indices: some Collection<Int>) throws {
            let todo = indices.filter { found[$0].hit == nil }
            guard !todo.isEmpty else { return }
            work.golden += todo.count
            var golden: [String: (first: String, last: String, email: String?, phone: String?, city: String?)] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT customer_id, first_name, last_name, email, phone, city FROM golden_customer
                WHERE customer_id IN (\(Array(repeating: "?", count: todo.count).joined(separator: ",")))
                """, arguments: StatementArguments(todo.map { found[$0].customerId }))
            while let r = try rows.next() {
                golden[r[0]] = (r[1] ?? "", r[2] ?? "", r[3], r[4], r[5])
            }
            for i in todo {
                let g = golden[found[i].customerId]
                let first = g?.first ?? "", last = g?.last ?? ""
                let (score, weakest) = scorer.score(first: first, last: last, names: found[i].names, identifiers: found[i].identifiers)
                found[i].hit = Hit(customerId: found[i].customerId, name: [first, last].filter { !$0.isEmpty }.joined(separator: " "),
                                   email: g?.email, phone: g?.phone, city: g?.city, rank: 0, score: score)
                found[i].weakest = weakest
            }
        }
        /// Whether a candidate matches every word exactly (its weakest word scores 1 or more): only
        /// those with every word among their names or identifiers can, read in turn until one does.
        func anyExact() throws -> Bool {
            let possible = found.indices.filter { found[$0].weakestBound >= 1 }
            var start = 0
            while start < possible.count {
                let batch = possible[start..<min(start + 16, possible.count)]
                try score(batch)
                if batch.contains(where: { found[$0].weakest >= 1 }) { return true }
                start = batch.endIndex
            }
            return false
        }
        var seen = Set<Int64>(), matched = 0
        /// Adds the candidates of `match` not read yet (`matched` counts them all); returns how many matched.
        @discardableResult
        func new(_ match: String, ranked: Bool = false, limit: Int = candidateLimit) throws -> Int {
            let rowids = try candidates(match, ranked: ranked, limit: limit)
            matched += rowids.count
            try add(rowids.filter { seen.insert($0).inserted })
            return rowids.count
        }
        // The words as typed first, without their sounds: a misspelt word's sound is often a common
        // name's ("jaems", "james", "john": jan), and the exact query then read 500 entries in rowid
        // order before the loose words below asked for the best spelt (BENCHMARKS.md, session 21).
        // The sounds are asked after those, when fewer than `enough` entries matched.
        let enough = max(limit * 3, goldenReadsAtLeast)
        let strict = ftsQuery(query, sealed: sealed, sounds: false, completions: completions) ?? match
        let viaEmail = !sealed ? try emailCandidates(db, query: query) : nil
        if let rowids = viaEmail {
            seen.formUnion(rowids)
            try add(rowids)
        } else {
            try new(strict)
        }
        // No candidate matches every word exactly: most often one word is misspelt (and may still
        // sound like other people's names). Keep the others exact and let that one match loosely,
        // one word at a time: each query stays selective, where ranking every loose match (bm25 over
        // thousands of rows) made these the slowest lookups. The loose word's alternatives are asked
        // most similar first (`looseAlternatives`: the names spelt like it, the formal names it may
        // be short for, then its sound), and no more once `enough` entries matched: the ranking
        // below scores the loose word by that similarity, and within one alternative ties go to the
        // lowest customer numbers, which an FTS5 query returns first. Asking them all at once read
        // 500 entries of a common first name in rowid order (BENCHMARKS.md, session 21), mostly
        // other surnames, and could miss the best spelt one. Only when no alternative matches anyone
        // (found before or not), any name with its first two letters (hundreds of customers at a
        // million, most of them nothing like the word, each read and scored).
        var similar: [String: [String]] = [:]
        if try !anyExact() {
            matched = 0
            var probed: [LooseWord] = []
            for v in looseWords(query, names: completions) {
                // When the other words match no one, no alternative can (one rowid read).
                guard try !candidates(v.others, limit: 1).isEmpty else { continue }
                probed.append(v)
                let alts = try looseAlternatives(db, word: v.word)
                similar[v.word] = alts.compactMap(\.name)
                var gathered = 0
                // The other words as typed first, then with the formal names they may be short for.
                for others in v.typed == v.others ? [v.others] : [v.typed, v.others] where gathered < enough {
                    var i = 0
                    while i < alts.count, gathered < enough || (i > 0 && alts[i].similarity == alts[i - 1].similarity) {
                        // The most similar one by one; the other names (often nobody with the other
                        // words) together; the sound alone, up to `candidateLimit`: the names that
                        // share it are not known before they are read, so neither is their order
                        // ("kristina": christina and christian, both crastan).
                        let sound = alts[i].name == nil
                        let group = i < looseSingly || sound ? alts[i...i] : alts[i..<(alts.lastIndex { $0.name != nil }.map { $0 + 1 } ?? i + 1)]
                        gathered += try new(others + " AND (" + group.map(\.match).joined(separator: " OR ") + ")", limit: sound ? candidateLimit : enough)
                        i = group.endIndex
                    }
                }
            }
            if matched == 0 {
                for v in probed where found.count < candidateLimit { try new(oneWordLooseQuery(v, similar: nil)) }
            }
        }
        // Too few entries so far: the words or their sounds, as the exact query was before (a word
        // that sounds like a name, "Smyth"; a rare name's sound-alikes fill the top rows).
        if viaEmail == nil, match != strict, found.count < enough { try new(match) }
        // Nobody by these names has the other words (a postcode, an id): the names alone, as typed,
        // rather than every name like any word ranked below ("maria garcia 99999": 0.4 s at a
        // million customers, for the Maria Garcias of other postcodes).
        let typed = query.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
        let nameWords = typed.filter { $0.contains(where: \.isLetter) && !$0.contains(where: \.isNumber) && !$0.contains("@") }
        if found.isEmpty, !nameWords.isEmpty, nameWords.count < typed.count,
           let names = ftsQuery(nameWords.joined(separator: " "), sealed: sealed, sounds: false, completions: completions) {
            try new(names)
        }
        // Typos in several words: any word's first letters, sound, nickname or a name spelt like it
        // (a transposition inside the first three letters, "Pakrer", keeps only the last); the
        // similarity ranking below sorts the bounded set.
        if found.isEmpty {
            for w in words where similar[w] == nil && w.count >= 3 && w.allSatisfy(\.isLetter) { similar[w] = try similarNames(db, to: w) }
            // A typo in every name word: each word as a name spelt like it, its sound or a formal
            // name, all words at once (exact terms, read only as far as the rows they share), before
            // ranking every name like any word (`looseQuery`: its three-letter prefixes match
            // hundreds of thousands of entries at a million customers, each ranked).
            if let together = everyWordLooseQuery(words, similar: { similar[$0] ?? [] }) { try new(together) }
            if found.isEmpty, let loose = looseQuery(query, similar: { similar[$0] ?? [] }) { try new(loose, ranked: true) }
        }
        // Only the candidates that may rank are scored with their golden rows: a golden name scores
        // at most what the same name among the entry's names does (`Scorer.bound`), so those
        // ordered first by that bound (then by id, as ties are) hold the best; namesakes beyond
        // them would tie at best and lose on their later ids.
        let ranking = found.indices.sorted { a, b in
            found[a].bound != found[b].bound ? found[a].bound > found[b].bound : found[a].customerId < found[b].customerId
        }
        try score(ranking.prefix(max(limit * 3, goldenReadsAtLeast)))
        var hits = found.compactMap(\.hit)
        hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.customerId < $1.customerId }
        hits = Array(hits.prefix(limit))
        // Emails and phones are read as stored and opened only for the hits returned (scoring
        // does not use them; a misspelt name scores hundreds of candidates).
        let opener = VaultOpener(VaultBox.of(db))
        for i in hits.indices {
            hits[i].rank = i + 1
            hits[i].email = opener.open(hits[i].email)
            hits[i].phone = opener.open(hits[i].phone)
        }
        return hits
    }

    /// A candidate: its entry, and once its golden row is read, its hit and weakest word's score.
    struct Candidate {
        var customerId: String
        var names: String
        var identifiers: [String]
        var bound = 0.0, weakestBound = 0.0
        var hit: Hit?
        var weakest = -Double.infinity
    }

    /// Golden rows read for at least this many of the best-bounded candidates (3 × the limit if more).
    static let goldenReadsAtLeast = 30

    /// At most this many entries per candidate query.
    static let candidateLimit = 500

    /// How closely a candidate matches the query's words: 2 for a word inside its emails, phones,
    /// postcodes or ids, else the best Jaro-Winkler similarity to its golden first or last name, or
    /// 0.95 × the best to any of its names. Candidates share names, so each name's key and each
    /// similarity is computed once per lookup (at a million customers a misspelt name scores
    /// hundreds of candidates); identifiers are searched as bytes when they and the word are ASCII.
    struct Scorer {
        let words: [String]
        private let wordBytes: [[UInt8]?]
        private let wordUTF8: [[UInt8]]
        private var keyOf: [String: String] = [:]
        /// Each word's similarity to each name seen, by name: candidates share names, and a small
        /// string key (a name of up to 15 bytes) costs no allocation where an array key did.
        private var similarity: [[String: Double]]

        init(words: [String]) {
            self.words = words
            wordBytes = words.map { w in w.utf8.allSatisfy { $0 < 0x80 } ? Array(w.utf8) : nil }
            wordUTF8 = words.map { Array($0.utf8) }
            similarity = Array(repeating: [:], count: words.count)
        }

        /// The score, and the weakest word's (infinity when every word is inside an identifier).
        mutating func score(first: String, last: String, names: String, identifiers: [String]) -> (Double, Double) {
            let golden = [key(first), key(last)].filter { !$0.isEmpty }
            return words(names: names, identifiers: identifiers, golden: golden)
        }

        /// The most `score` can give without the golden names, taking a golden name to be one of
        /// `names` (it is one of the records' names), and the most its weakest word can score.
        mutating func bound(names: String, identifiers: [String]) -> (Double, Double) {
            words(names: names, identifiers: identifiers, golden: nil)
        }

        /// Sums each word's value — 2 inside an identifier, else its best similarity to the golden
        /// names or, a little less, to any of `names` (with no golden names given: to `names`, in
        /// full) — and returns the weakest word's value too.
        private mutating func words(names: String, identifiers: [String], golden: [String]?) -> (Double, Double) {
            let tokens = names.utf8.split(separator: UInt8(ascii: " "))
            var blob: String?
            // Once per candidate, not once per word: the identifiers are most of an entry's bytes.
            let asciiIdentifiers = identifiers.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
            var total = 0.0, weakest = Double.infinity
            for i in words.indices {
                if isInside(i, identifiers, ascii: asciiIdentifiers, blob: &blob) { total += 2; continue }
                // Similarities are at least 0, so 0 is the best of no names.
                var any = 0.0
                for t in tokens { any = max(any, similar(i, String(decoding: t, as: UTF8.self))) }
                var v = any
                if let golden {
                    var best = 0.0
                    for g in golden { best = max(best, similar(i, g)) }
                    v = max(best, any * 0.95)
                }
                total += v
                weakest = min(weakest, v)
            }
            return (total, weakest)
        }

        /// Whether word `i` is inside one of the identifiers: as bytes when it and they are ASCII,
        /// else in their lowercased text, joined once per candidate into `blob`.
        private func isInside(_ i: Int, _ identifiers: [String], ascii: Bool, blob: inout String?) -> Bool {
            if ascii, let bytes = wordBytes[i] {
                return identifiers.contains { Self.contains($0, bytes) }
            }
            if blob == nil { blob = identifiers.joined(separator: " ").lowercased() }
            return blob!.contains(words[i])
        }

        private mutating func key(_ name: String) -> String {
            if name.isEmpty { return "" }
            if let k = keyOf[name] { return k }
            let k = TextKey.key(name)
            keyOf[name] = k
            return k
        }

        private mutating func similar(_ i: Int, _ name: String) -> Double {
            if let s = similarity[i][name] { return s }
            let s = Compare.jaroWinkler(Array(name.utf8), wordUTF8[i])
            similarity[i][name] = s
            return s
        }

        /// Whether ASCII `text`, lowercased, contains `word` (lowercase ASCII).
        static func contains(_ text: String, _ word: [UInt8]) -> Bool {
            guard let head = word.first else { return true }
            let bytes = text.utf8
            guard bytes.count >= word.count else { return false }
            return bytes.withContiguousStorageIfAvailable { t -> Bool in
                func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
                var i = 0
                while i + word.count <= t.count {
                    if lower(t[i]) == head {
                        var j = 1
                        while j < word.count && lower(t[i + j]) == word[j] { j += 1 }
                        if j == word.count { return true }
                    }
                    i += 1
                }
                return false
            } ?? text.lowercased().contains(String(decoding: word, as: UTF8.self))
        }
    }

    /// For a query that is one email address, the exact query's candidates — the entries its FTS5
    /// phrase (`emails:"karen mitchell icloud com"*`) matches, in the same order — found without
    /// that phrase: its domain tokens ("icloud", "com") are in nearly every entry, and FTS5 checks
    /// their positions in each entry it steps through (about 9 ms at a million customers). The
    /// entries holding the local part's tokens in order ("karen mitchell": a few) are read instead
    /// and the whole phrase is looked for in their emails, tokenised as FTS5 does for ASCII text.
    /// Nil (use the phrase) for other queries, when the local part matches more entries than a
    /// candidate query reads, or when an address is not ASCII (FTS5 also folds diacritics).
    static func emailCandidates(_ db: Database, query: String) throws -> [Int64]? {
        let words = query.lowercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
        guard words.count == 1, let word = words.first, let at = word.firstIndex(of: "@"),
              word.utf8.allSatisfy({ $0 < 0x80 }), ftsQuery(query)?.hasPrefix("emails:") == true else { return nil }
        let phrase = emailTokens(word), local = emailTokens(word[..<at])
        guard !local.isEmpty else { return nil }
        // As in `ftsQuery`: the last token is a prefix unless the address ends with a full stop.
        let lastIsPrefix = !word.hasSuffix(".")
        let localOnly = local.count == phrase.count
        let localMatch = "emails:\"" + local.joined(separator: " ") + "\"" + (localOnly && lastIsPrefix ? "*" : "")
        let rowids = try Int64.fetchAll(db, sql: "SELECT rowid FROM customer_search WHERE customer_search MATCH ? LIMIT \(candidateLimit + 1)",
                                        arguments: [localMatch])
        guard rowids.count <= candidateLimit else { return nil }
        if localOnly || rowids.isEmpty { return rowids }
        var matching: [Int64] = []
        let rows = try Row.fetchAll(db, sql: "SELECT rowid, emails FROM customer_search WHERE rowid IN (\(rowids.map(String.init).joined(separator: ",")))")
        for r in rows {
            let emails: String = r[1] ?? ""
            guard emails.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
            let tokens = emailTokens(emails.lowercased()[...])
            guard tokens.count >= phrase.count else { continue }
            let found = (0...(tokens.count - phrase.count)).contains { i in
                phrase.indices.allSatisfy { j in
                    j == phrase.count - 1 && lastIsPrefix ? tokens[i + j].hasPrefix(phrase[j]) : tokens[i + j] == phrase[j]
                }
            }
            if found { matching.append(r[0]) }
        }
        return matching.sorted()
    }

    /// An address's words as FTS5's unicode61 tokenizer splits ASCII text: runs of letters and digits.
    private static func emailTokens(_ s: Substring) -> [Substring] {
        s.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
    }

    /// Lookups read the catalog file through a memory map: a misspelt name's candidates are hundreds
    /// of scattered index, content and golden pages, each otherwise a read() call and a copy into a
    /// small reader cache. Set on the connection a lookup uses (only processes that search map the
    /// file, so a matching run's peak RSS is unchanged).
    ///
    /// SQLite's map stops at its compile-time cap (the system library's: 2 GB), and the index of a
    /// million customers lies beyond it in a 6 GB catalog, so the lookup's connection also keeps a
    /// page cache of `lookupCacheKiB` (a reader's default is 2 MB, 125 pages): the index's upper
    /// levels and the doclists of common names stay in it between lookups instead of being read
    /// and copied again by a pread each time (11 % of a server's CPU under uncached searches).
    static func mapForLookups(_ db: Database) throws {
        try db.execute(sql: "PRAGMA mmap_size = \(lookupMapBytes)")
        try db.execute(sql: "PRAGMA cache_size = -\(lookupCacheKiB)")
    }

    static let lookupMapBytes = 1 << 32
    static let lookupCacheKiB = 32 << 10

    /// The index's names (`customer_search_name`) that share a word's first two letters and are
    /// spelt like it (Jaro-Winkler ≥ `similarNameScore`), most similar first, at most
    /// `similarNameLimit`: a typo's correct spelling, not every name that starts the same way.
    static func similarNames(_ db: Database, to word: String) throws -> [String] {
        try scoredSimilarNames(db, to: word).map(\.name)
    }

    /// The index's names that start with `prefix` (ASCII), at most `prefixNamesLimit`; nil when
    /// there are more, or none (the FTS5 prefix is as cheap then), or the prefix is not ASCII (the
    /// list holds keys, and FTS5 folds other letters its own way).
    static func namesStarting(_ db: Database, with prefix: String) throws -> [String]? {
        guard !prefix.isEmpty, prefix.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "[") }) else { return nil }
        let names = try String.fetchAll(db, sql: "SELECT term FROM customer_search_name WHERE term GLOB ? LIMIT \(prefixNamesLimit + 1)",
                                        arguments: [prefix + "*"])
        return names.isEmpty || names.count > prefixNamesLimit ? nil : names
    }

    static let prefixNamesLimit = 32

    /// `similarNames` with each name's similarity to the word.
    static func scoredSimilarNames(_ db: Database, to word: String) throws -> [(name: String, score: Double)] {
        let start = String(word.prefix(2))
        guard start.allSatisfy(\.isLetter) else { return [] }
        let names = try String.fetchAll(db, sql: "SELECT term FROM customer_search_name WHERE term GLOB ?", arguments: [start + "*"])
        var scored: [(name: String, score: Double)] = []
        for name in names {
            let score = Compare.jaroWinkler(name, word)
            if score >= similarNameScore { scored.append((name, score)) }
        }
        scored.sort { a, b in a.score != b.score ? a.score > b.score : a.name < b.name }
        return Array(scored.prefix(similarNameLimit))
    }

    /// One way a loosened word may match: an FTS5 term of the names (`name`) or its sound, and how
    /// like the word it is (Jaro-Winkler; -1 for the sound, which names of any spelling share).
    struct LooseAlternative: Equatable {
        var match: String
        var name: String?
        var similarity: Double
    }

    /// A loosened word's alternatives, most similar first: the index's names spelt like it and the
    /// formal names it may be short for ("bill": william), by their similarity to the word, which
    /// is what the ranking scores the word by; then its sound (names that sound like it however
    /// they are spelt, "kristina": christina).
    static func looseAlternatives(_ db: Database, word: String) throws -> [LooseAlternative] {
        var alts = try scoredSimilarNames(db, to: word).map { LooseAlternative(match: "names:" + quoted($0.name), name: $0.name, similarity: $0.score) }
        for f in IdentityEngine.nicknames.formalNames(word) where f != word && !alts.contains(where: { $0.name == f }) {
            alts.append(LooseAlternative(match: "names:" + quoted(f), name: f, similarity: Compare.jaroWinkler(f, word)))
        }
        // A stable sort: names of equal similarity stay in name order.
        alts = alts.enumerated().sorted { a, b in
            a.element.similarity != b.element.similarity ? a.element.similarity > b.element.similarity : a.offset < b.offset
        }.map(\.element)
        alts.append(LooseAlternative(match: "sounds:" + Compare.nysiis(word).lowercased(), name: nil, similarity: -1))
        return alts
    }

    /// A loosened word's most similar alternatives are asked one at a time (a common first name
    /// with each), the rest in one query.
    static let looseSingly = 4

    static let similarNameScore = 0.8
    static let similarNameLimit = 50

    /// A query's word that may be loosened (a key of three letters or more, not the only word),
    /// and the FTS5 query of the other words, exact.
    struct LooseWord: Equatable {
        var word: String
        var others: String
        /// `others` without the formal names a word may be short for: the people named as typed,
        /// who rank above those ("Jimmy": james scores jaroWinkler(jimmy, james), 0.6).
        var typed: String
    }

    /// For each word that may be misspelt, the other words as an exact query (as typed: not also an
    /// email, id or postcode prefix). Empty for one-word queries (the loose query covers them) and
    /// for emails.
    /// - parameter names: the index's names that start with a word matched as a prefix (longer than
    ///   the prefix index's three characters), nil to leave it a prefix: FTS5 merges the whole
    ///   doclist of every term of a prefix before its first row (`smith*`: 2–3 ms at a million
    ///   customers, and once per query with the loose word's alternatives), where the same names
    ///   as terms are read only as far as the loose word's rows.
    static func looseWords(_ query: String, names: ((String) -> [String]?)? = nil) -> [LooseWord] {
        let words = query.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" }).map(String.init)
        guard words.count >= 2, !words.contains(where: { $0.contains("@") }) else { return [] }
        return words.indices.compactMap { i -> LooseWord? in
            let k = TextKey.key(words[i])
            guard k.count >= 3, k.allSatisfy(\.isLetter) else { return nil }
            // The other words as typed: a word of letters is a name here (not also an email, id or
            // postcode prefix: at a million customers "james*" in every column is most of the cost).
            let others = words.enumerated().filter { $0.offset != i }.map { w -> (String, String)? in
                let o = TextKey.key(w.element)
                guard !o.isEmpty else { return nil }
                let prefix = matchesAsPrefix(o, last: w.offset == words.count - 1)
                guard o.allSatisfy(\.isLetter) else {
                    // A phone number: its own query; another word with digits (a postcode, an id) as in the exact query.
                    let q = w.element.contains(where: \.isLetter) ? wordQuery(o, prefix: prefix) : ftsQuery(w.element).map { $0.hasPrefix("phones:") ? $0 : wordQuery(o, prefix: prefix) }
                    return q.map { ($0, $0) }
                }
                let formal = IdentityEngine.nicknames.formalNames(o).filter { $0 != o }.map { "names:\($0)" }
                var name = "names:\(o)\(prefix ? "*" : "")"
                if prefix, o.count > 3, let terms = names?(o), !terms.isEmpty {
                    name = "names:(" + terms.map(quoted).joined(separator: " OR ") + ")"
                }
                return ("(" + ([name] + formal).joined(separator: " OR ") + ")", "(" + name + ")")
            }
            guard !others.isEmpty, others.allSatisfy({ $0 != nil }) else { return nil }
            let parts = others.compactMap { $0 }
            return LooseWord(word: k, others: parts.map(\.0).joined(separator: " AND "), typed: parts.map(\.1).joined(separator: " AND "))
        }
    }

    /// For each word, the query with that word loosened (first two letters, or with `similar` the
    /// names spelt like it; sound; formal names) and every other word exact. Empty for one-word
    /// queries (the loose query covers them).
    static func oneWordLooseQueries(_ query: String, similar: ((String) -> [String])? = nil) -> [String] {
        looseWords(query).map { oneWordLooseQuery($0, similar: similar?($0.word)) }
    }

    /// One loosened word's query: the other words exact and the word as one of `similar` (without
    /// them, any name with its first two letters), its sound or a formal name.
    static func oneWordLooseQuery(_ v: LooseWord, similar: [String]?) -> String {
        var alts = similar.map { $0.map { "names:" + quoted($0) } } ?? ["names:\(v.word.prefix(2))*"]
        alts.append("sounds:\(Compare.nysiis(v.word).lowercased())")
        for f in IdentityEngine.nicknames.formalNames(v.word) where f != v.word { alts.append("names:\(f)") }
        return v.others + " AND (" + alts.joined(separator: " OR ") + ")"
    }

    /// Every name word (three letters or more) as itself, a name spelt like it (`similar`), its
    /// sound or a formal name it is short for; nil without such a word.
    static func everyWordLooseQuery(_ words: [String], similar: (String) -> [String]) -> String? {
        let parts = words.filter { $0.count >= 3 && $0.allSatisfy(\.isLetter) }.map { k -> String in
            var alts = ["names:" + quoted(k)] + similar(k).filter { $0 != k }.map { "names:" + quoted($0) }
            alts.append("sounds:\(Compare.nysiis(k).lowercased())")
            for f in IdentityEngine.nicknames.formalNames(k) where f != k { alts.append("names:" + quoted(f)) }
            return "(" + alts.joined(separator: " OR ") + ")"
        }
        return parts.isEmpty ? nil : parts.joined(separator: " AND ")
    }

    /// Any word by its first three letters, its sound, a formal name it is a nickname of, or (with
    /// `similar`) the index's names spelt like it.
    static func looseQuery(_ query: String, similar: (String) -> [String] = { _ in [] }) -> String? {
        var alts: [String] = []
        for raw in query.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" }) {
            let k = TextKey.key(String(raw))
            guard k.count >= 3, k.allSatisfy(\.isLetter) else { continue }
            alts.append("names:\(k.prefix(3))*")
            alts += similar(k).map { "names:" + quoted($0) }
            alts.append("sounds:\(Compare.nysiis(k).lowercased())")
            for f in IdentityEngine.nicknames.formalNames(k) where f != k { alts.append("names:\(f)") }
        }
        return alts.isEmpty ? nil : alts.joined(separator: " OR ")
    }

    /// The FTS5 query: every word must match some column; nil when nothing searchable remains.
    /// - parameter sealed: the index holds blind tokens for emails, phones and national ids
    ///   (`SearchTokens`): words are looked for among names, ids and postcodes only, since a word
    ///   could be the start of a token and match people at random.
    /// - parameter sounds: a word of letters also matches the names that sound like it.
    /// - parameter completions: the index's names that start with a last word of four letters or
    ///   more (`namesStarting`), nil to leave it a prefix; see `wordQuery`.
    static func ftsQuery(_ query: String, sealed: Bool = false, sounds: Bool = true,
                         completions: ((String) -> [String]?)? = nil) -> String? {
        let digits = query.filter(\.isNumber)
        let letters = query.contains { $0.isLetter }
        if !letters && digits.count >= 7 && !sealed {
            // A phone written any way: found by its last 10 (or fewer) digits.
            return phoneQuery(digits)
        }
        var parts: [String] = []
        let words = query.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
        for (i, raw) in words.enumerated() {
            let w = String(raw)
            if w.contains("@") {
                if sealed { continue }
                let tokens = w.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
                guard !tokens.isEmpty else { continue }
                parts.append("emails:\"\(tokens.joined(separator: " "))\"" + (w.hasSuffix(".") ? "" : "*"))
                continue
            }
            let k = TextKey.key(w)
            guard !k.isEmpty else { continue }
            let prefix = matchesAsPrefix(k, last: i == words.count - 1)
            let names = prefix && k.count > 3 && k.allSatisfy(\.isLetter) ? completions?(k) : nil
            parts.append(wordQuery(k, prefix: prefix, sealed: sealed, sounds: sounds, completions: names))
        }
        return parts.isEmpty ? nil : parts.joined(separator: " AND ")
    }

    /// Whether a word (a key) matches as the start of a term or only as a whole term. The last word
    /// may be half typed (results follow each key) and a word of up to three characters may be
    /// short for a longer one ("Jo", "Al"); a longer word followed by another is taken as typed: at a
    /// million customers "john*" is thousands of terms (johnson, every johnsmith12 of the emails),
    /// each read and merged, where "john" is one term (measured: 4.5 ms → 0.2 ms), and prefixes up to
    /// three characters have their own index (`prefix = '2 3'`), read only as far as needed.
    static func matchesAsPrefix(_ key: String, last: Bool) -> Bool {
        last || key.count <= 3
    }

    /// One word's alternatives: a name, id, postcode or email term (one column set, so a prefix is
    /// expanded once, not once per column), a name's sound and the formal names it is short for,
    /// the phone a long number ends.
    /// - parameter completions: for a prefix of letters, the names it completes to. The names column
    ///   is then asked for those terms (read only as far as the other words' rows, where a prefix
    ///   is merged whole first), and ids, postcodes and emails for the word as typed: an identifier
    ///   half typed has digits in it or is up to three characters (the prefix index).
    static func wordQuery(_ k: String, prefix: Bool, sealed: Bool = false, sounds: Bool = true, completions: [String]? = nil) -> String {
        let identifiers = "ids postcodes\(sealed ? "" : " emails")"
        var alts: [String]
        if prefix, let completions, !completions.isEmpty {
            alts = ["names:(" + completions.map(quoted).joined(separator: " OR ") + ")", "{\(identifiers)}:\(k)"]
        } else {
            alts = ["{names \(identifiers)}:\(k)\(prefix ? "*" : "")"]
        }
        // A sound only for a word of letters: "c0012345" or "sw1a" sound like half the catalog.
        if sounds && k.count >= 3 && k.allSatisfy(\.isLetter) { alts.append("sounds:\(Compare.nysiis(k).lowercased())") }
        for f in IdentityEngine.nicknames.formalNames(k) where f != k { alts.append("names:\(f)") }
        if k.count >= 7 && k.allSatisfy(\.isNumber) && !sealed { alts.append(phoneQuery(k)) }
        return "(" + alts.joined(separator: " OR ") + ")"
    }
}
