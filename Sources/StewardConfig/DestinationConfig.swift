import Foundation
import Yams

/// `destinations:` in steward.yml: where audiences are sent (docs/CONTRACTS.md).
///
/// ```yaml
/// destinations:
///   - name: crm_out
///     type: webhook                # file | webhook | crm
///     url: http://127.0.0.1:9100/sync
///     audiences: [win_back]
///     mode: mirror                 # mirror: add, update, remove · upsert: add, update
///     fields: [customer_id, first_name, email]
///     pii: false                   # true: personal values are sent unmasked (opened from the vault)
///     error_after: 24h             # `steward check` reports a destination failing for longer
/// ```
public struct DestinationConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case file, webhook, crm }
    public enum Mode: String, Sendable, CaseIterable { case mirror, upsert }
    public enum FileFormat: String, Sendable, CaseIterable { case csv, ndjson }
    /// Who wins a field both Steward and the CRM changed (`conflict:` of a `crm` destination).
    public enum ConflictRule: String, Sendable, CaseIterable {
        /// A field the CRM changed after the last sync keeps the CRM's value until the CRM changes it again.
        case crmWins = "crm_wins"
        /// Survivorship always wins; the CRM's edit is overwritten at the next sync (still listed).
        case stewardWins = "steward_wins"
    }

    public var name: String
    public var kind: Kind
    public var audiences: [String]
    public var mode: Mode
    public var fields: [String]
    /// `webhook`, or a `crm` destination answering over HTTP.
    public var url: String?
    /// `file`, or a `crm` destination written as update files: resolved against the project folder.
    public var path: URL?
    public var format: FileFormat
    public var pii: Bool
    public var errorAfter: TimeInterval?
    /// Changes per batch (a webhook POST, a drop file).
    public var batchSize: Int
    /// `crm`: the person source holding the CRM's records (its record keys are the CRM's ids).
    public var crmSource: String?
    public var conflictRule: ConflictRule
    /// Where `name:` is written, for messages.
    public var line: Int

    public init(name: String, kind: Kind, audiences: [String] = [], mode: Mode = .mirror, fields: [String] = ["customer_id"],
                url: String? = nil, path: URL? = nil, format: FileFormat = .csv, pii: Bool = false, errorAfter: TimeInterval? = nil,
                batchSize: Int = 1000, crmSource: String? = nil, conflictRule: ConflictRule = .crmWins, line: Int = 0) {
        self.name = name; self.kind = kind; self.audiences = audiences; self.mode = mode; self.fields = fields
        self.url = url; self.path = path; self.format = format; self.pii = pii; self.errorAfter = errorAfter
        self.batchSize = batchSize; self.crmSource = crmSource; self.conflictRule = conflictRule; self.line = line
    }

    /// The fields a `crm` destination writes back when `fields:` is not given: the golden customer id and
    /// the values Steward cleans (email, E.164 phone, the standardised address).
    public static let crmDefaultFields = ["customer_id", "email", "phone", "street", "city", "postcode", "region", "country"]
}

extension NodeReader {
    /// `destinations:` as a list. `audienceNames` (nil: not checked) and `fieldNames` are what a
    /// destination may name; `personSources` what a `crm` destination's `source:` may name.
    func destinations(_ node: Node, dir: URL, audienceNames: Set<String>?, fieldNames: Set<String>,
                      personSources: Set<String>) throws -> [DestinationConfig] {
        guard let seq = node.sequence else { throw fail(node, "destinations", "expected a list of destinations") }
        var out: [DestinationConfig] = []
        for (i, item) in seq.enumerated() {
            let d = try destination(item, index: i, dir: dir, audienceNames: audienceNames, fieldNames: fieldNames,
                                    personSources: personSources)
            if let dup = out.first(where: { $0.name == d.name }) {
                throw fail(item, "destinations[\(i)].name", "duplicate destination name '\(d.name)' (also at line \(dup.line))")
            }
            out.append(d)
        }
        return out
    }

    private func destination(_ node: Node, index: Int, dir: URL, audienceNames: Set<String>?, fieldNames: Set<String>,
                             personSources: Set<String>) throws -> DestinationConfig {
        let entries = try mapping(node, "destinations[\(index)]")
        func value(_ k: String) -> Node? { entries.first { $0.key == k }?.value }
        guard let nameNode = value("name") else { throw fail(node, "destinations[\(index)].name", "missing") }
        let name = try string(nameNode, "destinations[\(index)].name")
        guard name.range(of: "^[a-z0-9_]+$", options: .regularExpression) != nil else {
            throw fail(nameNode, "destinations[\(index)].name", "'\(name)' must match [a-z0-9_]+")
        }
        let ctx = "destinations.\(name)"
        try checkKeys(entries, allowed: ["name", "type", "audiences", "mode", "fields", "url", "path", "format", "pii",
                                         "error_after", "batch_size", "source", "conflict"], context: ctx)
        func oneOf<T: RawRepresentable & CaseIterable>(_ k: String, _ type: T.Type, default def: T?) throws -> T where T.RawValue == String {
            guard let n = value(k) else {
                if let def { return def }
                throw fail(node, "\(ctx).\(k)", "missing; expected one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let text = try string(n, "\(ctx).\(k)")
            guard let v = T(rawValue: text) else {
                throw fail(n, "\(ctx).\(k)", "'\(text)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return v
        }
        let kind = try oneOf("type", DestinationConfig.Kind.self, default: nil)
        let mode = try oneOf("mode", DestinationConfig.Mode.self, default: .mirror)
        var d = DestinationConfig(name: name, kind: kind, mode: mode, line: nameNode.mark?.line ?? 0)

        if let n = value("audiences") {
            guard let seq = n.sequence, !seq.isEmpty else { throw fail(n, "\(ctx).audiences", "expected a list of audience names") }
            for item in seq {
                let a = try string(item, "\(ctx).audiences")
                if let known = audienceNames, !known.contains(a) {
                    throw fail(item, "\(ctx).audiences", "unknown audience '\(a)'"
                               + (known.isEmpty ? "; declare it under audiences:" : "; expected one of: \(known.sorted().joined(separator: ", "))"))
                }
                if d.audiences.contains(a) { throw fail(item, "\(ctx).audiences", "'\(a)' is listed twice") }
                d.audiences.append(a)
            }
        } else if kind != .crm {
            throw fail(node, "\(ctx).audiences", "missing: list the audiences this destination receives")
        }

        if let n = value("fields") {
            guard let seq = n.sequence, !seq.isEmpty else { throw fail(n, "\(ctx).fields", "expected a list of fields, e.g. [customer_id, email]") }
            var fields: [String] = []
            for item in seq {
                let f = try string(item, "\(ctx).fields")
                guard fieldNames.contains(f) else {
                    throw fail(item, "\(ctx).fields", "unknown field '\(f)'; expected a trait such as: \(fieldNames.sorted().prefix(30).joined(separator: ", "))")
                }
                if fields.contains(f) { throw fail(item, "\(ctx).fields", "'\(f)' is listed twice") }
                fields.append(f)
            }
            // Every change names its customer: the id is always sent, first.
            d.fields = ["customer_id"] + fields.filter { $0 != "customer_id" }
        } else {
            d.fields = kind == .crm ? DestinationConfig.crmDefaultFields : ["customer_id"]
        }

        if let n = value("url") {
            let url = try string(n, "\(ctx).url")
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), !(parsed.host ?? "").isEmpty else {
                throw fail(n, "\(ctx).url", "expected an http:// or https:// URL with a host, got '\(url)'")
            }
            d.url = url
        }
        if let n = value("path") {
            let p = try projectPath(n, "\(ctx).path")
            d.path = Self.resolve(p, in: dir)
            let ext = (p as NSString).pathExtension.lowercased()
            if ext == "ndjson" || ext == "jsonl" { d.format = .ndjson }
        }
        if let n = value("format") { d.format = try oneOf("format", DestinationConfig.FileFormat.self, default: nil); _ = n }
        switch kind {
        case .webhook:
            if d.url == nil { throw fail(node, "\(ctx).url", "missing: a webhook destination needs url:") }
            if value("path") != nil { throw fail(value("path"), "\(ctx).path", "a webhook destination takes url:, not path:") }
        case .file:
            if d.path == nil { throw fail(node, "\(ctx).path", "missing: a file destination needs path: (e.g. out/win_back.csv)") }
            if value("url") != nil { throw fail(value("url"), "\(ctx).url", "a file destination takes path:, not url:") }
        case .crm:
            if (d.url == nil) == (d.path == nil) {
                throw fail(node, "\(ctx)", "a crm destination needs exactly one of url: (webhook) or path: (update files)")
            }
        }
        if let n = value("pii") {
            switch try string(n, "\(ctx).pii").lowercased() {
            case "true", "yes", "on": d.pii = true
            case "false", "no", "off": d.pii = false
            case let other: throw fail(n, "\(ctx).pii", "expected true or false, got '\(other)'")
            }
        }
        if let n = value("error_after") { d.errorAfter = try duration(n, "\(ctx).error_after") }
        if let n = value("batch_size") {
            let v = try number(n, "\(ctx).batch_size")
            guard v >= 1, v <= 100_000, v == v.rounded() else { throw fail(n, "\(ctx).batch_size", "expected a whole number from 1 to 100000") }
            d.batchSize = Int(v)
        }
        if let n = value("source") {
            guard kind == .crm else { throw fail(n, "\(ctx).source", "only a crm destination names a source") }
            let s = try string(n, "\(ctx).source")
            guard personSources.contains(s) else {
                throw fail(n, "\(ctx).source", "'\(s)' is not a person source; expected one of: \(personSources.sorted().joined(separator: ", "))")
            }
            d.crmSource = s
        } else if kind == .crm {
            throw fail(node, "\(ctx).source", "missing: name the person source holding the CRM's records")
        }
        if value("conflict") != nil {
            guard kind == .crm else { throw fail(value("conflict"), "\(ctx).conflict", "only a crm destination has a conflict rule") }
            d.conflictRule = try oneOf("conflict", DestinationConfig.ConflictRule.self, default: nil)
        }
        // A masked value written into the CRM would overwrite the real one with stars.
        if kind == .crm && !d.pii, let field = d.fields.first(where: { Traits.piiKind($0, sources: []) != nil }) {
            throw fail(value("pii") ?? node, "\(ctx).pii", "a crm destination writes '\(field)' back unmasked; declare pii: true (or leave personal fields out of fields:)")
        }
        if kind == .crm && mode == .mirror && value("mode") != nil {
            throw fail(value("mode"), "\(ctx).mode", "a crm destination updates records; it never removes them (leave mode: out or write upsert)")
        }
        if kind == .crm { d.mode = .upsert }
        return d
    }
}
