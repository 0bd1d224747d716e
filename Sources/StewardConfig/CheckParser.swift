import Foundation
import Yams

/// Parses one entry of a source's `checks:` list. Each entry is a single-key mapping naming the check
/// type; its value is a column, a list of columns, or a mapping of parameters.
struct CheckParser {
    let reader: NodeReader
    let ctx: String

    static let types = ["not_null", "unique", "pattern", "accepted_values", "range", "relationship", "row_count", "freshness"]

    static func defaultDimension(_ type: String) -> Dimension {
        switch type {
        case "not_null", "row_count": return .completeness
        case "unique": return .uniqueness
        case "relationship": return .consistency
        case "freshness": return .timeliness
        default: return .validity
        }
    }

    func parse(_ node: Node) throws -> [CheckConfig] {
        let entries = try reader.mapping(node, ctx)
        guard entries.count == 1, let entry = entries.first else {
            throw reader.fail(node, ctx, "each check is one `type: ...` entry; types: \(Self.types.joined(separator: ", "))")
        }
        let type = entry.key
        let key = "\(ctx).\(type)"
        guard Self.types.contains(type) else {
            throw reader.fail(entry.keyNode, key, "unknown check type; expected one of: \(Self.types.joined(separator: ", "))")
        }
        let line = entry.keyNode.mark?.line ?? 0
        let value = entry.value
        // Short forms: `not_null: [a, b]`, `unique: col`.
        if value.mapping == nil {
            guard type == "not_null" || type == "unique" else {
                throw reader.fail(value, key, "expected a mapping of parameters")
            }
            return try reader.strings(value, key).map { column in
                make(type: type, column: column, kind: type == "unique" ? .unique : .notNull, params: ["column": column],
                     severity: .error, dimension: nil, name: nil, line: line)
            }
        }
        let params = try reader.mapping(value, key)
        func p(_ name: String) -> Node? { params.first { $0.key == name }?.value }
        func text(_ name: String) throws -> String? { try p(name).map { try reader.string($0, "\(key).\(name)") } }
        let common: Set<String> = ["column", "severity", "dimension", "name"]
        let extra: [String: Set<String>] = [
            "not_null": [], "unique": [], "pattern": ["format", "regex"], "accepted_values": ["values"],
            "range": ["min", "max"], "relationship": ["to", "to_column"], "row_count": ["min", "max"],
            "freshness": ["max_age"],
        ]
        try reader.checkKeys(params, allowed: common.union(extra[type]!), context: key)
        var severity = Severity.error
        if let s = try text("severity") {
            guard let v = Severity(rawValue: s) else { throw reader.fail(p("severity"), "\(key).severity", "expected error or warn") }
            severity = v
        }
        var dimension: Dimension?
        if let d = try text("dimension") {
            guard let v = Dimension(rawValue: d) else {
                throw reader.fail(p("dimension"), "\(key).dimension",
                                  "expected one of: \(Dimension.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            dimension = v
        }
        let column = try text("column")
        let datasetLevel = type == "row_count" || type == "freshness"
        if column == nil && !datasetLevel { throw reader.fail(value, "\(key).column", "missing") }
        var recorded: [String: Any] = [:]
        if let column { recorded["column"] = column }
        let kind: CheckConfig.Kind
        switch type {
        case "not_null": kind = .notNull
        case "unique": kind = .unique
        case "pattern":
            if let f = try text("format") {
                recorded["format"] = f
                switch f {
                case "email": kind = .pattern(format: .email)
                case "phone": kind = .pattern(format: .phone)
                case "postcode": kind = .pattern(format: .postcode)
                case "date": kind = .pattern(format: .date)
                default: throw reader.fail(p("format"), "\(key).format", "expected email, phone, postcode or date (or use regex:)")
                }
            } else if let r = try text("regex") {
                // Refused here, not at run time: a construct without a linear-time matcher (backreference,
                // lookaround) could make one value stall the run.
                if let problem = reader.vocabulary.regexProblem(r) {
                    throw reader.fail(p("regex"), "\(key).regex", "'\(r)': \(problem)")
                }
                recorded["regex"] = r
                kind = .pattern(format: .regex(r))
            } else { throw reader.fail(value, key, "needs format: or regex:") }
        case "accepted_values":
            guard let v = p("values") else { throw reader.fail(value, "\(key).values", "missing") }
            let values = try reader.strings(v, "\(key).values")
            recorded["values"] = values
            kind = .acceptedValues(Set(values))
        case "range":
            let lo = try p("min").map { try reader.number($0, "\(key).min") }
            let hi = try p("max").map { try reader.number($0, "\(key).max") }
            if lo == nil && hi == nil { throw reader.fail(value, key, "needs min:, max: or both") }
            if let lo, let hi, lo > hi { throw reader.fail(p("min"), "\(key).min", "min (\(lo)) is greater than max (\(hi))") }
            if let lo { recorded["min"] = lo }
            if let hi { recorded["max"] = hi }
            kind = .range(min: lo, max: hi)
        case "relationship":
            guard let to = try text("to") else { throw reader.fail(value, "\(key).to", "missing") }
            recorded["to"] = to
            let toColumn = try text("to_column")
            if let toColumn { recorded["to_column"] = toColumn }
            kind = .relationship(to: to, toColumn: toColumn)
        case "row_count":
            let lo = try p("min").map { try count($0, "\(key).min") }
            let hi = try p("max").map { try count($0, "\(key).max") }
            if lo == nil && hi == nil { throw reader.fail(value, key, "needs min:, max: or both") }
            if let lo, let hi, lo > hi { throw reader.fail(p("min"), "\(key).min", "min (\(lo)) is greater than max (\(hi))") }
            if let lo { recorded["min"] = lo }
            if let hi { recorded["max"] = hi }
            kind = .rowCount(min: lo, max: hi)
        default: // freshness
            guard let n = p("max_age") else { throw reader.fail(value, "\(key).max_age", "missing") }
            let age = try reader.duration(n, "\(key).max_age")
            recorded["max_age"] = try reader.string(n, key)
            kind = .freshness(maxAge: age)
        }
        return [make(type: type, column: column, kind: kind, params: recorded, severity: severity,
                     dimension: dimension, name: try text("name"), line: line)]
    }

    /// A row count: a whole number, zero or more.
    private func count(_ node: Node, _ key: String) throws -> Int {
        let n = try reader.number(node, key)
        guard n >= 0, n == n.rounded(), n < 1e15 else {
            throw reader.fail(node, key, "expected a whole number of rows, zero or more, got \(node.scalar?.string ?? "")")
        }
        return Int(n)
    }

    private func make(type: String, column: String?, kind: CheckConfig.Kind, params: [String: Any],
                      severity: Severity, dimension: Dimension?, name: String?, line: Int) -> CheckConfig {
        let data = (try? JSONSerialization.data(withJSONObject: params, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return CheckConfig(
            name: name ?? (column.map { "\(type)_\($0)" } ?? type), type: type, column: column, kind: kind,
            dimension: dimension ?? Self.defaultDimension(type), severity: severity,
            paramsJSON: String(decoding: data, as: UTF8.self), line: line)
    }
}
