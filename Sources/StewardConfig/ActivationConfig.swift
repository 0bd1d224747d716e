import Foundation
import Yams

/// `traits: {NAME: COLUMN}` or `{NAME: {column: COLUMN, type: number|text|date|bool}}` on a person
/// source: a custom attribute kept on the golden customer, chosen by the survivorship rules.
public struct TraitDeclaration: Sendable, Equatable {
    public var name: String
    public var column: String
    /// `.any` when declared without a type: compared as whatever the rule compares it with.
    public var type: TraitType
    public var line: Int
    public init(name: String, column: String, type: TraitType, line: Int) {
        self.name = name; self.column = column; self.type = type; self.line = line
    }
}

/// `consent: {channel, granted, at, withdrawn}` on a source: each record states consent for a channel.
/// `granted`: a yes/no column (yes: a grant, no: a withdrawal) or an opt-in date column (filled: a
/// grant at that date); `withdrawn`: a column that, filled
/// (a date or yes), withdraws; `at`: when the statement was made.
public struct ConsentMapping: Sendable, Equatable {
    public var channel: String
    public var granted: String?
    public var at: String?
    public var withdrawn: String?
    public var line: Int
    public init(channel: String, granted: String?, at: String?, withdrawn: String?, line: Int) {
        self.channel = channel; self.granted = granted; self.at = at; self.withdrawn = withdrawn; self.line = line
    }
    public var columns: [String] { [granted, at, withdrawn].compactMap { $0 } }
}

/// `team: 12` or `team: [alice, bob]`: the User adoption KPI's denominator.
public struct TeamConfig: Sendable, Equatable {
    public var size: Int
    /// The OS user names, when listed.
    public var members: [String]
    public init(size: Int, members: [String] = []) { self.size = size; self.members = members }
}

/// One `audiences:` entry, its rule already type-checked against the project's traits.
public struct AudienceConfig: Sendable, Equatable {
    public var name: String
    public var description: String
    /// The rule as written, and parsed.
    public var rule: String
    public var expr: RuleExpr
    /// Members must have consented to this channel.
    public var channel: String?
    /// The share held out (never sent), 0...1.
    public var holdout: Double
    /// Conversion window for lift (seconds).
    public var window: TimeInterval?
    public var line: Int
}

/// The traits every golden customer has, their types, and which are personal data (masked on display).
public enum Traits {
    /// Built-in traits in display order (custom traits and `consent_CHANNEL` follow).
    public static let builtIn: [(name: String, type: TraitType)] = [
        ("customer_id", .text),
        ("first_name", .text), ("last_name", .text), ("email", .text), ("phone", .text), ("dob", .date),
        ("street", .text), ("city", .text), ("postcode", .text), ("region", .text), ("country", .text), ("national_id", .text),
        ("orders", .number), ("revenue", .number), ("last_order_at", .date), ("first_order_at", .date),
        ("tickets", .number), ("events", .number),
        ("segment", .text), ("recency_days", .number), ("frequency", .number), ("monetary", .number),
        ("r_score", .number), ("f_score", .number), ("m_score", .number), ("churn_score", .number),
    ]

    public static let consentPrefix = "consent_"

    /// Every trait a project's rules may use, with its type.
    public static func types(sources: [SourceConfig]) -> [String: TraitType] {
        var out = Dictionary(uniqueKeysWithValues: builtIn.map { ($0.name, $0.type) })
        for source in sources {
            for t in source.traits where out[t.name] == nil || out[t.name] == .any { out[t.name] = t.type }
            for c in source.consent { out[consentPrefix + c.channel] = .bool }
        }
        return out
    }

    /// The consent channels the sources state.
    public static func channels(sources: [SourceConfig]) -> [String] {
        var out: [String] = []
        for s in sources { for c in s.consent where !out.contains(c.channel) { out.append(c.channel) } }
        return out
    }

    /// How a trait's value is masked on display, nil when it is not personal: the golden PII fields,
    /// and a custom trait whose column some declaring source lists under `pii:`.
    public static func piiKind(_ trait: String, sources: [SourceConfig]) -> PIIKind? {
        if let kind = PIIPolicy.fields[trait] { return kind }
        for s in sources { for t in s.traits where t.name == trait && s.piiColumns.contains(t.column) { return .other } }
        return nil
    }
}

extension NodeReader {
    static let traitName = "^[a-z][a-z0-9_]*$"

    /// A source's `traits:`.
    func traitDeclarations(_ node: Node, ctx: String, entity: Entity) throws -> [TraitDeclaration] {
        guard entity == .person else { throw fail(node, "\(ctx).traits", "traits belong on a person source") }
        let builtIn = Set(Traits.builtIn.map(\.name))
        var out: [TraitDeclaration] = []
        for e in try mapping(node, "\(ctx).traits") {
            let key = "\(ctx).traits.\(e.key)"
            guard e.key.range(of: Self.traitName, options: .regularExpression) != nil else {
                throw fail(e.keyNode, key, "'\(e.key)' must match [a-z][a-z0-9_]* (it is a name in audience rules)")
            }
            guard !builtIn.contains(e.key), !e.key.hasPrefix(Traits.consentPrefix) else {
                throw fail(e.keyNode, key, "'\(e.key)' is a built-in trait; choose another name")
            }
            let line = e.keyNode.mark?.line ?? 0
            if e.value.mapping != nil {
                let fields = try mapping(e.value, key)
                try checkKeys(fields, allowed: ["column", "type"], context: key)
                guard let column = fields.first(where: { $0.key == "column" }) else { throw fail(e.value, key, "expected {column: COLUMN, type: TYPE}") }
                var type = TraitType.any
                if let t = fields.first(where: { $0.key == "type" }) {
                    let text = try string(t.value, "\(key).type")
                    guard let parsed = TraitType(rawValue: text), parsed != .any else {
                        throw fail(t.value, "\(key).type", "'\(text)': expected number, text, date or bool")
                    }
                    type = parsed
                }
                out.append(TraitDeclaration(name: e.key, column: try string(column.value, "\(key).column"), type: type, line: line))
            } else {
                out.append(TraitDeclaration(name: e.key, column: try string(e.value, key), type: .any, line: line))
            }
        }
        return out
    }

    /// A source's `consent:`: one mapping, or a list of them (one per channel).
    func consentMappings(_ node: Node, ctx: String, entity: Entity) throws -> [ConsentMapping] {
        // A statement belongs to a person record (activity rows reach customers only through links).
        guard entity == .person else { throw fail(node, "\(ctx).consent", "consent belongs on a person source") }
        var out: [ConsentMapping] = []
        for item in node.sequence ?? [node] {
            let key = "\(ctx).consent"
            let fields = try mapping(item, key)
            try checkKeys(fields, allowed: ["channel", "granted", "at", "withdrawn"], context: key)
            func value(_ k: String) throws -> String? { try fields.first { $0.key == k }.map { try string($0.value, "\(key).\(k)") } }
            guard let channel = try value("channel") else { throw fail(item, "\(key).channel", "missing: which channel (email, sms, …) the statement is for") }
            guard channel.range(of: Self.traitName, options: .regularExpression) != nil else {
                throw fail(item, "\(key).channel", "'\(channel)' must match [a-z][a-z0-9_]*")
            }
            let granted = try value("granted"), withdrawn = try value("withdrawn")
            guard granted != nil || withdrawn != nil else {
                throw fail(item, key, "expected granted: COLUMN (yes/no) or withdrawn: COLUMN (filled when consent was withdrawn)")
            }
            if out.contains(where: { $0.channel == channel }) { throw fail(item, "\(key).channel", "'\(channel)' is stated twice by this source") }
            out.append(ConsentMapping(channel: channel, granted: granted, at: try value("at"), withdrawn: withdrawn, line: item.mark?.line ?? 0))
        }
        return out
    }

    /// `team:`.
    func team(_ node: Node) throws -> TeamConfig {
        if let seq = node.sequence {
            var names: [String] = []
            for item in seq {
                let name = try string(item, "team")
                if names.contains(name) { throw fail(item, "team", "'\(name)' is listed twice") }
                names.append(name)
            }
            guard !names.isEmpty else { throw fail(node, "team", "expected a number of people or a list of user names") }
            return TeamConfig(size: names.count, members: names)
        }
        let text = try string(node, "team")
        guard let n = Int(text), n > 0 else { throw fail(node, "team", "expected a number of people (e.g. 12) or a list of user names, got '\(text)'") }
        return TeamConfig(size: n)
    }

    /// `audiences:`, each rule checked against the sources' traits.
    func audiences(_ node: Node, sources: [SourceConfig]) throws -> [AudienceConfig] {
        guard let seq = node.sequence else { throw fail(node, "audiences", "expected a list of audiences") }
        let types = Traits.types(sources: sources)
        let channels = Traits.channels(sources: sources)
        var out: [AudienceConfig] = []
        for (i, item) in seq.enumerated() {
            let fields = try mapping(item, "audiences[\(i)]")
            func node(_ k: String) -> Node? { fields.first { $0.key == k }?.value }
            guard let nameNode = node("name") else { throw fail(item, "audiences[\(i)].name", "missing") }
            let name = try string(nameNode, "audiences[\(i)].name")
            guard name.range(of: "^[a-z0-9_]+$", options: .regularExpression) != nil else {
                throw fail(nameNode, "audiences[\(i)].name", "'\(name)' must match [a-z0-9_]+")
            }
            let ctx = "audiences.\(name)"
            try checkKeys(fields, allowed: ["name", "description", "where", "channel", "holdout", "window"], context: ctx)
            if let dup = out.first(where: { $0.name == name }) {
                throw fail(nameNode, "\(ctx).name", "duplicate audience name (also at line \(dup.line))")
            }
            guard let whereNode = node("where") else { throw fail(item, "\(ctx).where", "missing: the rule choosing the members") }
            let rule = try string(whereNode, "\(ctx).where")
            let expr: RuleExpr
            do { expr = try AudienceRule.compile(rule, traits: types) } catch {
                throw ConfigError(file: file, line: whereNode.mark?.line, key: "\(ctx).where", message: error.description)
            }
            var channel: String?
            if let n = node("channel") {
                let c = try string(n, "\(ctx).channel")
                guard channels.contains(c) else {
                    let known = channels.isEmpty ? "no source maps consent: add consent: {channel, granted, at} to a source"
                                                 : "sources state consent for: \(channels.joined(separator: ", "))"
                    throw fail(n, "\(ctx).channel", "'\(c)': \(known)")
                }
                channel = c
            }
            var holdout = 0.0
            if let n = node("holdout") {
                let text = try string(n, "\(ctx).holdout").trimmingCharacters(in: .whitespaces)
                let parsed = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
                guard let share = parsed, share.isFinite, share >= 0, share < 1 else {
                    throw fail(n, "\(ctx).holdout", "expected a share below 100% (e.g. 10%), got '\(text)'")
                }
                holdout = share
            }
            let window = try node("window").map { try duration($0, "\(ctx).window") }
            let description = try node("description").map { try string($0, "\(ctx).description") } ?? ""
            out.append(AudienceConfig(name: name, description: description, rule: rule, expr: expr, channel: channel, holdout: holdout,
                                      window: window, line: nameNode.mark?.line ?? 0))
        }
        return out
    }
}
