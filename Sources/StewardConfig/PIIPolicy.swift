import Foundation

/// Display masks for personal data: `j***@example.com`, `***-***-1234`, `***`. The shapes every
/// masked value takes, on every screen (the CLI, the console, explain, quarantine).
public enum Mask {
    public static func email(_ e: String?) -> String? {
        guard let e, let at = e.firstIndex(of: "@") else { return e.map { _ in "***" } }
        return String(e.prefix(1)) + "***" + String(e[at...])
    }

    public static func phone(_ p: String?) -> String? {
        guard let p else { return nil }
        let digits = p.filter(\.isNumber)
        return "***-***-" + String(digits.suffix(4))
    }

    /// Street, date of birth, national id: only the shape remains.
    public static func other(_ v: String?) -> String? { v.map { _ in "***" } }
}

/// How a personal value is masked.
public enum PIIKind: String, Sendable, Equatable {
    case email, phone, other

    public func mask(_ value: String?) -> String? {
        switch self {
        case .email: return Mask.email(value)
        case .phone: return Mask.phone(value)
        case .other: return Mask.other(value)
        }
    }
}

/// Which columns of which source hold personal data, decided by steward.yml alone: the columns mapped
/// to email, phone, dob, street or national_id (a template's every column), and those a source lists
/// under `pii:`. Record keys, timestamps, postcodes, names of checks and every other column stay
/// readable. Every place that shows a stored source value goes through `display`, so masking — and the
/// vault's unsealing, which belongs just before it — happens in one place.
public struct PIIPolicy: Sendable, Equatable {
    /// The canonical fields that hold personal data, and how each is masked.
    public static let fields: [String: PIIKind] = ["email": .email, "phone": .phone, "dob": .other, "street": .other,
                                                   "national_id": .other]

    /// source → column → kind; a source missing here is unknown to the project.
    private var columns: [String: [String: PIIKind]]

    public init(sources: [SourceConfig]) {
        var columns: [String: [String: PIIKind]] = [:]
        for source in sources {
            var kinds: [String: PIIKind] = [:]
            for (field, value) in source.mapping {
                guard let kind = Self.fields[field] else { continue }
                let named: [String]
                switch value {
                case .column(let c, _): named = [c]
                case .template(let parts, _): named = parts.compactMap { if case .column(let c) = $0 { return c }; return nil }
                case .reference(_, let c): named = [c]
                case .canonical: named = []
                }
                // A column mapped twice keeps its first, most specific mask.
                for c in named where kinds[c] == nil { kinds[c] = kind }
            }
            for c in source.piiColumns where kinds[c] == nil { kinds[c] = .other }
            columns[source.name] = kinds
        }
        self.columns = columns
    }

    public init(config: ProjectConfig) { self.init(sources: config.sources) }

    /// No project known: every value of every source is treated as personal.
    public init() { columns = [:] }

    /// How a column's values are masked, or nil when they are not personal. A source the project does
    /// not declare (removed from steward.yml since its rows were stored) is masked whole.
    public func kind(source: String, column: String) -> PIIKind? {
        guard let kinds = columns[source] else { return .other }
        return kinds[column]
    }

    public func isPII(source: String, column: String) -> Bool { kind(source: source, column: column) != nil }

    /// A stored value of a source's column as it may be shown: masked when the column is personal,
    /// unless `reveal` (which the caller audits). An empty value stays empty: there is nothing to hide.
    public func display(_ value: String?, column: String, source: String, reveal: Bool) -> String? {
        Self.display(value, kind: kind(source: source, column: column), reveal: reveal)
    }

    /// A canonical field's value (a golden record, its history, explain) as it may be shown.
    public static func display(_ value: String?, field: String, reveal: Bool) -> String? {
        display(value, kind: fields[field], reveal: reveal)
    }

    /// The one masking step every displayed value passes through (the vault unseals just before it).
    public static func display(_ value: String?, kind: PIIKind?, reveal: Bool) -> String? {
        guard let value, !reveal, let kind, !value.isEmpty else { return value }
        return kind.mask(value)
    }

    /// One column of a stored raw row, as it may be shown.
    public struct RawField: Sendable, Equatable {
        public var column: String
        public var value: String?
        public init(column: String, value: String?) { self.column = column; self.value = value }
    }

    /// A stored raw row (a JSON object of column → value, as ingest writes it) as it may be shown, in its
    /// columns' order; nil when the text is not a JSON object (then no column is known: see `maskFreeText`).
    /// - parameter readable: false for a row the reader could not read as written: its values may sit
    ///   under the wrong columns, so all of them are masked.
    public func displayRaw(_ raw: String, source: String, readable: Bool = true, reveal: Bool) -> [RawField]? {
        guard let fields = OrderedJSON.flatten(raw) else { return nil }
        return fields.map { f in
            RawField(column: f.key, value: Self.display(f.value, kind: readable ? kind(source: source, column: f.key) : .other,
                                                        reveal: reveal))
        }
    }

    /// `col=value, col=value` for one line on screen, masked by the policy; free text (no columns known)
    /// is masked whole.
    public func displayRawLine(_ raw: String, source: String, readable: Bool = true, reveal: Bool) -> String {
        guard let fields = displayRaw(raw, source: source, readable: readable, reveal: reveal) else {
            return reveal ? raw : Self.maskFreeText(raw)
        }
        return fields.map { "\($0.column)=\($0.value ?? "null")" }.joined(separator: ", ")
    }

    /// A stored reason as it may be shown. Reasons name columns, never values; a catalog written by an
    /// older version may still hold reasons that quote a value (`invalid email 'x@y'`), so any quoted text
    /// that is not one of the row's columns is masked.
    public static func displayReason(_ reason: String, columns: Set<String>, reveal: Bool) -> String {
        guard !reveal, reason.contains("'") else { return reason }
        var out = "", rest = Substring(reason)
        while let open = rest.firstIndex(of: "'") {
            out += rest[...open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "'") else { return out + "***" }
            if columns.contains(String(after[..<close])) {
                out += after[...close]
                rest = after[after.index(after: close)...]
                continue
            }
            // A value, which may hold quotes itself (O'Brien): masked up to the reason's last quote.
            let last = after.lastIndex(of: "'")!
            return out + "***'" + after[after.index(after: last)...]
        }
        return out + rest
    }

    /// A quarantined row's stored reasons as they may be shown (`displayReason`, its raw row's columns).
    public static func displayReasons(_ reasons: [String], raw: String, reveal: Bool) -> [String] {
        guard !reveal, reasons.contains(where: { $0.contains("'") }) else { return reasons }
        let columns = Set(OrderedJSON.flatten(raw)?.map(\.key) ?? [])
        return reasons.map { displayReason($0, columns: columns, reveal: false) }
    }

    /// Text whose columns are unknown (a line that is not a JSON object): nothing in it can be told
    /// apart from personal data, so none of it is shown, only its length.
    public static func maskFreeText(_ text: String) -> String {
        text.isEmpty ? "" : "*** (\(text.count) characters, not shown)"
    }
}

/// A JSON object flattened to `path → value` in the order its keys are written (JSONSerialization
/// loses the order, and a row reads best in its file's column order). Nested objects become dotted
/// paths as NDJSON mappings name them; arrays keep their JSON text; null is nil.
enum OrderedJSON {
    static func flatten(_ text: String) -> [(key: String, value: String?)]? {
        let bytes = Array(text.utf8)
        var i = 0
        var out: [(key: String, value: String?)] = []
        skipSpace(bytes, &i)
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{"), object(bytes, &i, prefix: "", into: &out) else { return nil }
        skipSpace(bytes, &i)
        return i == bytes.count ? out : nil
    }

    private static func skipSpace(_ b: [UInt8], _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
    }

    private static func object(_ b: [UInt8], _ i: inout Int, prefix: String, into out: inout [(key: String, value: String?)]) -> Bool {
        i += 1  // {
        skipSpace(b, &i)
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return true }
        while true {
            skipSpace(b, &i)
            guard let name = string(b, &i) else { return false }
            skipSpace(b, &i)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace(b, &i)
            let path = prefix.isEmpty ? name : "\(prefix).\(name)"
            guard i < b.count else { return false }
            if b[i] == UInt8(ascii: "{") {
                guard object(b, &i, prefix: path, into: &out) else { return false }
            } else {
                guard let value = scalarOrArray(b, &i) else { return false }
                out.append((path, value))
            }
            skipSpace(b, &i)
            guard i < b.count else { return false }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return true }
            return false
        }
    }

    /// A string, number, literal or array at `i`: its text (a string decoded), `.some(nil)` for null;
    /// nil when it is not valid.
    private static func scalarOrArray(_ b: [UInt8], _ i: inout Int) -> String?? {
        if b[i] == UInt8(ascii: "\"") { return string(b, &i).map { .some($0) } }
        let start = i
        if b[i] == UInt8(ascii: "[") {
            guard skipNested(b, &i) else { return nil }
        } else {
            while i < b.count, !",}] \t\r\n".utf8.contains(b[i]) { i += 1 }
        }
        let token = String(decoding: b[start..<i], as: UTF8.self)
        guard !token.isEmpty else { return nil }
        return .some(token == "null" ? nil : token)
    }

    /// Skips a bracketed value (arrays, objects inside them), honouring strings.
    private static func skipNested(_ b: [UInt8], _ i: inout Int) -> Bool {
        var depth = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\""): guard string(b, &i) != nil else { return false }; continue
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { i += 1; return true }
            default: break
            }
            i += 1
        }
        return false
    }

    /// A JSON string at `i` (which must be its opening quote), decoded.
    private static func string(_ b: [UInt8], _ i: inout Int) -> String? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        let start = i
        i += 1
        var escaped = false
        while i < b.count {
            let c = b[i]
            i += 1
            if c == UInt8(ascii: "\\") { escaped = true; i += 1; continue }
            if c == UInt8(ascii: "\"") {
                let slice = b[start..<i]
                if !escaped { return String(decoding: slice.dropFirst().dropLast(), as: UTF8.self) }
                return (try? JSONSerialization.jsonObject(with: Data(slice), options: .fragmentsAllowed)) as? String
            }
        }
        return nil
    }
}
