import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// One statement of consent for a channel: a grant or a withdrawal, dated or not.
public struct ConsentStatement: Sendable, Equatable {
    public var granted: Bool
    /// ISO day or timestamp as the source wrote it (nil: undated).
    public var at: String?
    public var source: String
    public var recordKey: String

    public init(granted: Bool, at: String?, source: String = "", recordKey: String = "") {
        self.granted = granted; self.at = at; self.source = source; self.recordKey = recordKey
    }

    /// The order statements are judged in: by date; an undated grant before every dated statement
    /// and an undated withdrawal after them (a withdrawal is never taken to be older than a grant it
    /// cannot be dated against); at the same time a withdrawal after a grant.
    var rank: (Double, Int) {
        let seconds = at.flatMap(TraitCoercion.seconds) ?? (granted ? -.infinity : .infinity)
        return (seconds, granted ? 0 : 1)
    }

    /// The statement that stands among several: the latest; a withdrawal beats a grant of the same
    /// time and any undated grant; none: no statement, so no consent.
    public static func winner(_ statements: [ConsentStatement]) -> ConsentStatement? {
        statements.max { a, b in
            let ra = a.rank, rb = b.rank
            if ra.0 != rb.0 { return ra.0 < rb.0 }
            if ra.1 != rb.1 { return ra.1 < rb.1 }
            // Equal in every respect that matters: a stable choice.
            return (a.source, a.recordKey) > (b.source, b.recordKey)
        }
    }

    /// What one record states for a channel: `granted` yes (or a date: an opt-in) is a grant, no a withdrawal; a filled
    /// `withdrawn` column withdraws (at its own date when it holds one, else at `at`). Both in one
    /// record: the one that stands by `winner`.
    /// - parameter date: a date as written in the source to ISO 8601 (the source's `date_formats`), nil when it is none.
    static func read(_ fields: [String: String], _ mapping: ConsentMapping,
                     date: (String) -> String? = { TraitCoercion.seconds($0) == nil ? nil : $0 }) -> (granted: Bool, at: String?)? {
        func cell(_ c: String?) -> String? { c.flatMap { fields[$0]?.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } }
        let at = cell(mapping.at).flatMap(date)
        var statements: [ConsentStatement] = []
        if let g = cell(mapping.granted) {
            // Yes/no, or an opt-in date: filled, it grants at that date.
            if let yes = TraitCoercion.bool(g) { statements.append(ConsentStatement(granted: yes, at: at)) }
            else if let when = date(g) { statements.append(ConsentStatement(granted: true, at: at ?? when)) }
        }
        if let w = cell(mapping.withdrawn), TraitCoercion.bool(w) != false {
            let when = date(w) ?? at
            statements.append(ConsentStatement(granted: false, at: when))
        }
        return winner(statements).map { ($0.granted, $0.at) }
    }
}

/// Consent per customer and channel from its records' statements; each change is audited (ids and
/// channel only: no personal data in the audit trail).
enum ConsentResolution {
    struct Outcome { var granted = 0; var withdrawn = 0; var changed = 0 }

    static func update(_ db: Database, runId: Int64) throws -> Outcome {
        var out = Outcome()
        // Winning statement per customer and channel, in customer order (so the writes below go to the
        // table's pages in order: at a million customers, in a dictionary's order, they were most of the
        // run's activation step, BENCHMARKS.md session 23). Channels in name order.
        var winners: [(customer: String, channels: [(channel: String, winner: ConsentStatement)])] = []
        var current: (customer: String, byChannel: [String: [ConsentStatement]])?
        func flush() {
            guard let c = current else { return }
            let channels = c.byChannel.keys.sorted().compactMap { channel in
                ConsentStatement.winner(c.byChannel[channel]!).map { (channel: channel, winner: $0) }
            }
            if !channels.isEmpty { winners.append((c.customer, channels)) }
        }
        // Statements first (CROSS JOIN fixes the order), sorted after: SQLite's choice, members by
        // customer with a lookup of each statement, took 3.0 s against 1.8 s at a million customers.
        let rows = try Row.fetchCursor(db, sql: """
            SELECT m.customer_id, c.channel, c.granted, c.at, c.source, c.record_key
            FROM consent_statement c CROSS JOIN identity_member m ON m.source = c.source AND m.record_key = c.record_key
            CROSS JOIN golden_customer g ON g.customer_id = m.customer_id
            ORDER BY m.customer_id
            """)
        while let r = try rows.next() {
            let customer: String = r[0]
            if current?.customer != customer { flush(); current = (customer, [:]) }
            current!.byChannel[r[1], default: []].append(ConsentStatement(granted: (r[2] as Int) == 1, at: r[3], source: r[4], recordKey: r[5]))
        }
        flush()
        // Compare with what stood before: write and audit the differences.
        var before: [String: [String: (granted: Bool, at: String?, source: String, key: String)]] = [:]
        let old = try Row.fetchCursor(db, sql: "SELECT customer_id, channel, granted, at, source, record_key FROM customer_consent")
        while let r = try old.next() { before[r[0], default: [:]][r[1]] = ((r[2] as Int) == 1, r[3], r[4], r[5]) }
        let at = Timestamp.now()
        let actor = Catalog.osUser
        func state(_ granted: Bool?) -> String { granted.map { $0 ? "granted" : "withdrawn" } ?? "no statement" }
        func detail(_ channel: String, was: Bool?, _ w: ConsentStatement) -> String {
            "\(channel): \(state(was)) → \(state(w.granted)) (\(w.source), \(w.at ?? "undated"), run \(runId))"
        }
        // A first resolution writes every consent and audits every one: many rows a statement.
        if before.isEmpty {
            var insert = try BulkRows(db, insertInto: "customer_consent",
                                      columns: ["customer_id", "channel", "granted", "at", "source", "record_key", "changed_run"])
            var audit = try BulkRows(db, insertInto: "audit_event", columns: ["at", "actor", "action", "subject", "detail"])
            for (customer, channels) in winners {
                for (channel, w) in channels {
                    if w.granted { out.granted += 1 } else { out.withdrawn += 1 }
                    insert.text(customer); insert.text(channel); insert.int(w.granted); insert.text(w.at); insert.text(w.source)
                    insert.text(w.recordKey); insert.int(runId)
                    try insert.endRow(db)
                    out.changed += 1
                    audit.text(at); audit.text(actor); audit.text("consent"); audit.text("customer:\(customer)")
                    audit.text(detail(channel, was: nil, w))
                    try audit.endRow(db)
                }
            }
            try insert.finish(db)
            try audit.finish(db)
            return out
        }
        let upsert = try db.makeStatement(sql: """
            INSERT INTO customer_consent (customer_id, channel, granted, at, source, record_key, changed_run) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (customer_id, channel) DO UPDATE SET granted = excluded.granted, at = excluded.at, source = excluded.source,
                record_key = excluded.record_key, changed_run = excluded.changed_run
            """)
        let delete = try db.makeStatement(sql: "DELETE FROM customer_consent WHERE customer_id = ? AND channel = ?")
        let audit = try db.makeStatement(sql: "INSERT INTO audit_event (at, actor, action, subject, detail) VALUES (?, ?, 'consent', ?, ?)")
        for (customer, channels) in winners {
            for (channel, w) in channels {
                if w.granted { out.granted += 1 } else { out.withdrawn += 1 }
                // Taken out: what is left in `before` afterwards has no statement any more.
                let was = before[customer]?.removeValue(forKey: channel)
                if let was, was.granted == w.granted, was.at == w.at, was.source == w.source, was.key == w.recordKey { continue }
                try upsert.execute(arguments: [customer, channel, w.granted ? 1 : 0, w.at, w.source, w.recordKey, runId])
                if was?.granted != w.granted {
                    out.changed += 1
                    try audit.execute(arguments: [at, actor, "customer:\(customer)", detail(channel, was: was?.granted, w)])
                }
            }
        }
        for (customer, channels) in before {
            for (channel, was) in channels {
                try delete.execute(arguments: [customer, channel])
                if was.granted {
                    out.changed += 1
                    try audit.execute(arguments: [at, actor, "customer:\(customer)", "\(channel): granted → no statement (run \(runId))"])
                }
            }
        }
        return out
    }
}
