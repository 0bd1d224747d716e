import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Explains pairs against the latest matching pass. The model, the placeholder values and the name
/// frequencies are read once, so a console moving a selection over pairs explains each in
/// milliseconds instead of re-reading every staged record.
public struct Explainer: Sendable {
    /// The matching pass explained (a new pass needs a new explainer).
    public let runId: Int64
    public let threshold: Double
    let model: FSModel
    let scorer: Scorer

    public init(_ db: Database, threshold: Double) throws {
        guard let run = try Row.fetchOne(db, sql: "SELECT run_id, model_json FROM identity_run ORDER BY run_id DESC LIMIT 1") else {
            throw Explanation.Failure.notMatched
        }
        runId = run[0]
        self.threshold = threshold
        // A model of older comparison levels would read today's levels as others: refused (`FSModel.current`).
        model = try FSModel.current(run[1])
        var junk = Set<JunkValue>()
        for r in try Row.fetchAll(db, sql: "SELECT field, vault_open(value) FROM identity_junk") {
            if let f = Field.allCases.first(where: { $0.name == (r[0] as String) }) { junk.insert(JunkValue(field: f, value: Array((r[1] as String).utf8))) }
        }
        let nick = IdentityEngine.nicknames
        // Names counted once per customer, as the matcher counts them once per group it linked
        // (`TermFrequencies.init(_:groups:)`); a record without a customer counts alone.
        let records = try PersonRecord.loadAll(db, nicknames: nick)
        var number: [String: Int32] = [:], customerOf: [String: Int32] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT source, record_key, customer_id FROM identity_member") {
            let customer: String = r[2]
            let n = number[customer] ?? Int32(number.count)
            number[customer] = n
            customerOf["\(r[0] as String)\u{1F}\(r[1] as String)"] = n
        }
        let groups = records.indices.map { customerOf["\(records[$0].source)\u{1F}\(records[$0].key)"] ?? Int32(-1 - $0) }
        let frequencies = TermFrequencies(records, groups: groups)
        scorer = Scorer(model: model, comparator: Comparator(nicknames: nick, junk: junk), frequencies: frequencies)
    }

    /// The latest matching pass's id, to tell whether an explainer is still current.
    public static func latestRun(_ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT MAX(run_id) FROM identity_run")
    }

    public func explain(_ db: Database, _ refA: String, _ refB: String) throws -> Explanation {
        typealias Failure = Explanation.Failure
        func split(_ r: String) throws -> (String, String) {
            guard let i = r.firstIndex(of: ":"), i != r.startIndex, r.index(after: i) != r.endIndex else { throw Failure.badReference(r) }
            return (String(r[..<i]), String(r[r.index(after: i)...]))
        }
        let (sa, ka) = try split(refA), (sb, kb) = try split(refB)
        let nick = IdentityEngine.nicknames
        guard let a = try PersonRecord.load(db, source: sa, key: ka, nicknames: nick) else { throw Failure.unknownRecord(refA) }
        guard let b = try PersonRecord.load(db, source: sb, key: kb, nicknames: nick) else { throw Failure.unknownRecord(refB) }
        let s = scorer.score(a, b)
        func text(_ f: Field, _ r: PersonRecord, masked: Bool = false) -> String {
            func str(_ v: [UInt8]) -> String { String(decoding: v, as: UTF8.self) }
            func hide(_ v: [UInt8], _ mask: (String?) -> String?) -> String { v.isEmpty ? "" : masked ? mask(str(v)) ?? "" : str(v) }
            switch f {
            case .firstName: return str(r.first)
            case .lastName: return str(r.last)
            case .email: return hide(r.email, Mask.email)
            case .phone: return hide(r.phone, Mask.phone)
            case .dob: return hide(r.dob, Mask.other)
            case .nationalId: return hide(r.nationalId, Mask.other)
            case .address:
                // Masked, the street goes and the postcode and city stay.
                return [hide(r.street, Mask.other), str(r.postcode), str(r.city)].filter { !$0.isEmpty }.joined(separator: " ")
            }
        }
        let lines = s.fields.map { fs -> Explanation.Line in
            let level: String
            if fs.level >= 0 { level = fs.field.levels[fs.level] }
            else {
                let va = text(fs.field, a), vb = text(fs.field, b)
                level = va.isEmpty || vb.isEmpty ? "missing (neutral)" : "placeholder value (neutral)"
            }
            return Explanation.Line(field: fs.field.name, a: text(fs.field, a), b: text(fs.field, b),
                                    maskedA: text(fs.field, a, masked: true), maskedB: text(fs.field, b, masked: true),
                                    level: level, weight: fs.weight, termFrequency: fs.termFrequency)
        }
        let ca = try String.fetchOne(db, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?", arguments: [sa, ka])
        let cb = try String.fetchOne(db, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?", arguments: [sb, kb])
        let decision = try String.fetchOne(db, sql: """
            SELECT decision FROM identity_decision WHERE (a_source = ? AND a_key = ? AND b_source = ? AND b_key = ?)
                OR (a_source = ? AND a_key = ? AND b_source = ? AND b_key = ?)
            """, arguments: [sa, ka, sb, kb, sb, kb, sa, ka])
        return Explanation(a: refA, b: refB, prior: model.priorWeight, lines: lines, weight: s.weight, probability: s.probability,
                           threshold: threshold, swappedNames: s.vector.swappedNames, sameCustomer: ca != nil && ca == cb,
                           customers: (ca, cb), decision: decision)
    }
}
