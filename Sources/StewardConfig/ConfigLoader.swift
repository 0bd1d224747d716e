import Foundation
import StewardCatalog
import Yams

/// Loads and validates `steward.yml` on its own (YAML, keys, types, values, references). Every problem is
/// a `ConfigError` naming file, line and key. Loading never touches the catalog and never reads source
/// files: a column missing from a source's files fails that source's step when it loads, so one
/// changed export cannot stop every command.
public enum ConfigLoader {
    public static let fileName = "steward.yml"

    /// - parameter vocabulary: the engine's country codes, date formats and patterns
    ///   (`ConfigLoader.load(_:)` in StewardPipeline passes the engine's own).
    public static func load(_ file: URL, vocabulary: ConfigVocabulary) throws -> ProjectConfig {
        let path = file.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: nil, key: "-", message: "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: path, line: 1, key: "-", message: "the file is empty")
            }
            root = node
        } catch let error as YamlError {
            throw ConfigError(file: path, line: yamlLine(error), key: "-", message: "invalid YAML: \(error)")
        }
        var reader = NodeReader(file: path, vocabulary: vocabulary)
        return try reader.project(root, file: file)
    }

    /// The nearest `steward.yml` in `start` or its parents.
    public static func find(from start: URL) -> URL? {
        var dir = start.standardizedFileURL
        while true {
            let candidate = dir.appendingPathComponent(fileName)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
    }

    private static func yamlLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default: return nil
        }
    }
}

/// Walks the YAML node tree with positions, so errors can name the line.
struct NodeReader {
    let file: String
    let vocabulary: ConfigVocabulary

    func fail(_ node: Node?, _ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, key: key, message: message)
    }

    func mapping(_ node: Node, _ key: String) throws -> [(key: String, keyNode: Node, value: Node)] {
        guard let map = node.mapping else { throw fail(node, key, "expected a mapping") }
        return try map.map { pair in
            guard let name = pair.key.string else { throw fail(pair.key, key, "keys must be text") }
            return (name, pair.key, pair.value)
        }
    }

    func string(_ node: Node, _ key: String) throws -> String {
        guard let s = node.scalar?.string else { throw fail(node, key, "expected a single value") }
        return s
    }

    func number(_ node: Node, _ key: String) throws -> Double {
        guard let text = node.scalar?.string, let d = Double(text) else { throw fail(node, key, "expected a number") }
        guard d.isFinite else { throw fail(node, key, "expected a finite number, got '\(text)'") }
        return d
    }

    /// A number in [0, 1] (a probability).
    func probability(_ node: Node, _ key: String) throws -> Double {
        let p = try number(node, key)
        guard (0...1).contains(p) else { throw fail(node, key, "expected a probability between 0 and 1, got \(node.scalar?.string ?? "")") }
        return p
    }

    /// A path as written; a relative one must stay inside the project folder (absolute paths are
    /// taken as written).
    func projectPath(_ node: Node, _ key: String) throws -> String {
        let path = try string(node, key)
        if Self.leavesProject(path) {
            throw fail(node, key, "'\(path)' leaves the project folder; write a path inside it, or an absolute path")
        }
        return path
    }

    /// Whether a relative path climbs above its starting folder with `..` (judged on the text, as written).
    static func leavesProject(_ path: String) -> Bool {
        guard !path.hasPrefix("/") else { return false }
        var depth = 0
        for part in path.split(separator: "/") where part != "." {
            depth += part == ".." ? -1 : 1
            if depth < 0 { return true }
        }
        return false
    }

    func strings(_ node: Node, _ key: String) throws -> [String] {
        if let seq = node.sequence { return try seq.map { try string($0, key) } }
        return [try string(node, key)]
    }

    func duration(_ node: Node, _ key: String) throws -> TimeInterval {
        let text = try string(node, key)
        guard let d = Duration.parse(text), d > 0 else {
            throw fail(node, key, "expected a duration such as 90s, 15m, 1h or 7d, got '\(text)'")
        }
        return d
    }

    func checkKeys(_ entries: [(key: String, keyNode: Node, value: Node)], allowed: Set<String>, context: String) throws {
        for e in entries where !allowed.contains(e.key) {
            throw fail(e.keyNode, context.isEmpty ? e.key : "\(context).\(e.key)",
                       "unknown key; expected one of: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    mutating func project(_ root: Node, file: URL) throws -> ProjectConfig {
        let entries = try mapping(root, "-")
        try checkKeys(entries, allowed: ["name", "catalog", "default_region", "roadmap", "truth", "theme", "refresh",
                                         "keys", "sources", "matching", "kpis", "schedule", "alerts",
                                         "evidence", "survivorship", "privacy", "destinations", "team", "audiences"], context: "")
        let dir = file.deletingLastPathComponent()
        func value(_ k: String) -> Node? { entries.first { $0.key == k }?.value }

        guard let nameNode = value("name") else { throw fail(root, "name", "missing: every project needs a name") }
        let name = try string(nameNode, "name")
        let catalogPath = try value("catalog").map { try projectPath($0, "catalog") } ?? ".steward/catalog.sqlite"
        let region = try value("default_region").map { try string($0, "default_region").uppercased() } ?? "US"
        if !vocabulary.isCountryCode(region) {
            throw fail(value("default_region"), "default_region", "'\(region)' is not an ISO 3166 alpha-2 country code")
        }
        /// A file the project names that must exist (`roadmap`, `truth`).
        func existingFile(_ key: String) throws -> URL? {
            guard let node = value(key) else { return nil }
            let url = Self.resolve(try projectPath(node, key), in: dir)
            guard FileManager.default.fileExists(atPath: url.path) else { throw fail(node, key, "file not found: \(url.path)") }
            return url
        }
        let roadmap = try existingFile("roadmap")
        let truth = try existingFile("truth")
        var keys: [String: String] = [:]
        if let node = value("keys") { keys = try keyBindings(node) }
        var refresh: Double?
        if let node = value("refresh") { refresh = try duration(node, "refresh") }

        guard let sourcesNode = value("sources") else { throw fail(root, "sources", "missing: list the project's sources") }
        guard let seq = sourcesNode.sequence else { throw fail(sourcesNode, "sources", "expected a list of sources") }
        var sources: [SourceConfig] = []
        for (i, node) in seq.enumerated() {
            let source = try self.source(node, index: i, region: region)
            if let dup = sources.first(where: { $0.name == source.name }) {
                throw fail(node, "sources[\(i)].name", "duplicate source name '\(source.name)' (also at line \(dup.line))")
            }
            sources.append(source)
        }
        let known = Set(sources.map(\.name))
        for source in sources {
            for check in source.checks {
                if case .relationship(let to, _) = check.kind, !known.contains(to) {
                    throw ConfigError(file: file.path, line: check.line, key: "sources.\(source.name).checks.relationship.to",
                                      message: "unknown source '\(to)'")
                }
            }
            for (field, value) in source.mapping {
                if case .reference(let to, _) = value, !known.contains(to) {
                    throw ConfigError(file: file.path, line: source.line, key: "sources.\(source.name).mapping.\(field).source",
                                      message: "unknown source '\(to)'")
                }
            }
        }
        try checkCycles(sources)

        var survivorship = SurvivorshipConfig()
        if let node = value("survivorship") { survivorship = try survivorshipConfig(node, sources: sources) }
        var matching = MatchingConfig()
        if let node = value("matching") {
            let entries = try mapping(node, "matching")
            try checkKeys(entries, allowed: Set(["threshold", "review", "primary_system", "blocking", "survivorship"]
                                                    + MatchingConfig.tuningKeys), context: "matching")
            for e in entries {
                switch e.key {
                case "threshold": matching.threshold = try probability(e.value, "matching.threshold")
                case "review":
                    guard let s = e.value.sequence, s.count == 2 else { throw fail(e.value, "matching.review", "expected [low, high]") }
                    let band = (try probability(s[0], "matching.review"), try probability(s[1], "matching.review"))
                    guard band.0 <= band.1 else {
                        throw fail(e.value, "matching.review", "expected [low, high] with low <= high, got [\(band.0), \(band.1)]")
                    }
                    matching.review = band
                case "primary_system":
                    let system = try string(e.value, "matching.primary_system")
                    let systems = Set(sources.filter { $0.entity == .person }.map(\.system))
                    guard systems.contains(system) else {
                        throw fail(e.value, "matching.primary_system",
                                   "'\(system)' is not the system of a person source; expected one of: \(systems.sorted().joined(separator: ", "))")
                    }
                    matching.primarySystem = system
                case "blocking":
                    // Each rule: blocking keys joined by '&' (e.g. "last_name & dob"); rules are OR'd.
                    var rules: [String] = []
                    for (i, r) in (e.value.sequence ?? [e.value]).enumerated() {
                        let text = try string(r, "matching.blocking[\(i)]")
                        let keys = text.split(whereSeparator: { $0 == "&" || $0 == "+" }).map { $0.trimmingCharacters(in: .whitespaces) }
                        if keys.isEmpty || keys.contains(where: { !MatchingConfig.blockingKeys.contains($0) }) {
                            throw fail(r, "matching.blocking[\(i)]",
                                       "'\(text)': expected keys joined by '&' from \(MatchingConfig.blockingKeys.joined(separator: ", "))")
                        }
                        rules.append(text)
                    }
                    if rules.isEmpty { throw fail(e.value, "matching.blocking", "expected a list of rules") }
                    matching.blocking = rules
                case "survivorship":
                    // The older spelling of `survivorship: {default: RULE}`.
                    if value("survivorship") != nil {
                        throw fail(e.keyNode, "matching.survivorship", "also set in the top-level survivorship: section; keep one (survivorship.default)")
                    }
                    survivorship.defaultRule = try survivorshipRule(e.value, "matching.survivorship")
                default: // a tuning key (checkKeys admitted only those)
                    let v = try number(e.value, "matching.\(e.key)")
                    if v <= 0 { throw fail(e.value, "matching.\(e.key)", "expected a positive number") }
                    _ = matching.setTuning(e.key, to: v)
                }
            }
        }
        var kpis: [KPIConfig] = []
        if let node = value("kpis") {
            guard let seq = node.sequence else { throw fail(node, "kpis", "expected a list") }
            for k in seq {
                let e = try mapping(k, "kpis")
                try checkKeys(e, allowed: ["name", "target", "baseline", "due", "unit"], context: "kpis")
                func v(_ n: String) throws -> String? { try e.first { $0.key == n }.map { try string($0.value, "kpis.\(n)") } }
                func node(_ n: String) -> Node? { e.first { $0.key == n }?.value }
                guard let n = try v("name"), let t = try v("target") else { throw fail(k, "kpis", "each KPI needs name and target") }
                let unit = try v("unit"), baseline = try v("baseline"), due = try v("due")
                let target: KPITarget
                do { target = try KPITarget.parse(t, unit: unit) } catch let error as KPIParseError {
                    throw fail(node("target"), "kpis.target", "\(n): \(error.message) (examples: < 1 hour, > 95%, 4:1, 60% → 95%)")
                }
                if let baseline {
                    do { _ = try KPITarget.parseQuantity(baseline, unit: unit ?? target.unit.rawValue) } catch let error as KPIParseError {
                        throw fail(node("baseline"), "kpis.baseline", "\(n): \(error.message)")
                    }
                }
                if let due, DueDate.parse(due) == nil {
                    throw fail(node("due"), "kpis.due", "\(n): '\(due)' is not a date (2024-09-30, 2024-09, Q3 2024 or 2024)")
                }
                kpis.append(KPIConfig(name: n, target: t, baseline: baseline, due: due, unit: unit))
            }
        }
        var every: TimeInterval?
        if let node = value("schedule") {
            let e = try mapping(node, "schedule")
            try checkKeys(e, allowed: ["every"], context: "schedule")
            if let n = e.first(where: { $0.key == "every" }) { every = try duration(n.value, "schedule.every") }
        }
        var alerts: [AlertConfig] = []
        if let node = value("alerts") {
            guard let seq = node.sequence else { throw fail(node, "alerts", "expected a list") }
            for a in seq {
                let e = try mapping(a, "alerts")
                try checkKeys(e, allowed: ["webhook"], context: "alerts")
                guard let w = e.first(where: { $0.key == "webhook" }) else { throw fail(a, "alerts", "each alert needs webhook") }
                let url = try string(w.value, "alerts.webhook")
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                      !(parsed.host ?? "").isEmpty else {
                    throw fail(w.value, "alerts.webhook", "expected an http:// or https:// URL with a host, got '\(url)'")
                }
                alerts.append(AlertConfig(webhook: url))
            }
        }
        var evidence: [EvidenceRule] = []
        if let node = value("evidence") { evidence = try evidenceRules(node, sources: known) }
        var privacy = PrivacyConfig()
        if let node = value("privacy") {
            let e = try mapping(node, "privacy")
            try checkKeys(e, allowed: ["vault"], context: "privacy")
            if let v = e.first(where: { $0.key == "vault" }) {
                switch try string(v.value, "privacy.vault").lowercased() {
                case "true", "yes", "on": privacy.vault = true
                case "false", "no", "off": privacy.vault = false
                case let other: throw fail(v.value, "privacy.vault", "expected true or false, got '\(other)'")
                }
            }
        }
        var config = ProjectConfig(
            file: file, name: name, catalogURL: Self.resolve(catalogPath, in: dir), defaultRegion: region,
            roadmap: roadmap, truth: truth, theme: try value("theme").map { try string($0, "theme") },
            refreshSeconds: refresh, keys: keys, sources: sources, matching: matching, kpis: kpis,
            scheduleEvery: every, alerts: alerts, evidence: evidence, survivorship: survivorship, privacy: privacy)
        // Audiences and team: ActivationConfig.swift.
        if let node = value("team") { config.team = try team(node) }
        if let node = value("audiences") { config.audiences = try audiences(node, sources: sources) }
        if let node = value("destinations") {
            config.destinations = try destinations(node, dir: dir, audienceNames: Set(config.audiences.map(\.name)),
                                                   fieldNames: Set(Traits.types(sources: sources).keys),
                                                   personSources: Set(sources.filter { $0.entity == .person }.map(\.name)))
        }
        return config
    }

    /// A path of steward.yml resolved against the project folder; an absolute path as written.
    static func resolve(_ path: String, in dir: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : dir.appendingPathComponent(path)
    }

    /// `keys: {ACTION: "KEY [KEY…]"}`: known actions, readable keys, and no key bound to two actions.
    func keyBindings(_ node: Node) throws -> [String: String] {
        var keys: [String: String] = [:]
        var owner: [KeyStroke: (action: String, line: Int)] = [:]
        for e in try mapping(node, "keys") {
            let key = "keys.\(e.key)"
            guard ConsoleAction(rawValue: e.key) != nil else {
                throw fail(e.keyNode, key, "unknown action; expected one of: \(ConsoleAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let spec = try string(e.value, key)
            let (strokes, unreadable) = KeyStroke.list(spec)
            if let unreadable {
                throw fail(e.value, key, "cannot read key '\(unreadable)' (examples: x, G, ctrl-r, F5, enter, esc, tab, shift-tab, pgdn, space)")
            }
            if strokes.isEmpty { throw fail(e.value, key, "expected a key (examples: x, ctrl-r, F5)") }
            let line = e.keyNode.mark?.line ?? 0
            for stroke in Set(strokes) {
                if let other = owner[stroke] {
                    throw fail(e.value, key, "'\(stroke)' is also bound to \(other.action) (line \(other.line)); one key, one action")
                }
                owner[stroke] = (e.key, line)
            }
            keys[e.key] = spec
        }
        return keys
    }

    func survivorshipRule(_ node: Node, _ key: String) throws -> SurvivorshipRule {
        let text = try string(node, key)
        guard let rule = SurvivorshipRule(rawValue: text) else {
            throw fail(node, key, "'\(text)': expected one of \(SurvivorshipRule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return rule
    }

    /// `survivorship: {default: RULE, source_priority: [SOURCE…], attributes: {ATTRIBUTE: RULE}}`.
    func survivorshipConfig(_ node: Node, sources: [SourceConfig]) throws -> SurvivorshipConfig {
        var config = SurvivorshipConfig()
        let entries = try mapping(node, "survivorship")
        try checkKeys(entries, allowed: ["default", "source_priority", "attributes"], context: "survivorship")
        for e in entries {
            switch e.key {
            case "default":
                config.defaultRule = try survivorshipRule(e.value, "survivorship.default")
            case "source_priority":
                guard let seq = e.value.sequence, !seq.isEmpty else {
                    throw fail(e.value, "survivorship.source_priority", "expected a list of person sources, highest priority first")
                }
                let people = sources.filter { $0.entity == .person }.map(\.name)
                for item in seq {
                    let name = try string(item, "survivorship.source_priority")
                    guard people.contains(name) else {
                        throw fail(item, "survivorship.source_priority", "'\(name)' is not a person source; expected one of \(people.joined(separator: ", "))")
                    }
                    if config.sourcePriority.contains(name) { throw fail(item, "survivorship.source_priority", "'\(name)' is listed twice") }
                    config.sourcePriority.append(name)
                }
            default: // attributes
                for a in try mapping(e.value, "survivorship.attributes") {
                    // A custom trait (a source's `traits:`) is chosen by these rules too.
                    guard SurvivorshipConfig.attributeNames.contains(a.key) || sources.contains(where: { $0.traits.contains { $0.name == a.key } }) else {
                        throw fail(a.keyNode, "survivorship.attributes.\(a.key)",
                                   "unknown attribute; expected one of: \(SurvivorshipConfig.attributeNames.joined(separator: ", "))")
                    }
                    config.attributes[a.key] = try survivorshipRule(a.value, "survivorship.attributes.\(a.key)")
                }
            }
        }
        return config
    }

    /// `evidence:` maps a task (its id or its text) to a condition: a name, or `{source_loaded: NAME}`.
    func evidenceRules(_ node: Node, sources: Set<String>) throws -> [EvidenceRule] {
        let names = EvidenceCondition.names.joined(separator: ", ")
        var rules: [EvidenceRule] = []
        for e in try mapping(node, "evidence") {
            let key = "evidence.\(e.key)"
            let line = e.keyNode.mark?.line ?? 0
            if e.value.mapping != nil {
                let args = try mapping(e.value, key)
                guard args.count == 1, args[0].key == "source_loaded" else {
                    throw fail(e.value, key, "expected one of: \(names) (source_loaded as {source_loaded: NAME})")
                }
                let source = try string(args[0].value, "\(key).source_loaded")
                guard sources.contains(source) else { throw fail(args[0].value, "\(key).source_loaded", "unknown source '\(source)'") }
                rules.append(EvidenceRule(task: e.key, condition: .sourceLoaded(source), line: line))
                continue
            }
            let text = try string(e.value, key)
            if text.hasPrefix("source_loaded") {
                let source = text.dropFirst("source_loaded".count).drop { $0 == ":" || $0 == " " }
                guard sources.contains(String(source)) else {
                    throw fail(e.value, key, source.isEmpty ? "source_loaded needs a source: {source_loaded: NAME}" : "unknown source '\(source)'")
                }
                rules.append(EvidenceRule(task: e.key, condition: .sourceLoaded(String(source)), line: line))
                continue
            }
            guard let condition = EvidenceCondition(name: text) else {
                throw fail(e.value, key, "'\(text)' is not a condition; expected one of: \(names)")
            }
            rules.append(EvidenceRule(task: e.key, condition: condition, line: line))
        }
        return rules
    }

    func source(_ node: Node, index: Int, region: String) throws -> SourceConfig {
        let entries = try mapping(node, "sources[\(index)]")
        func value(_ k: String) -> Node? { entries.first { $0.key == k }?.value }
        guard let nameNode = value("name") else { throw fail(node, "sources[\(index)].name", "missing") }
        let name = try string(nameNode, "sources[\(index)].name")
        guard name.range(of: "^[a-z0-9_]+$", options: .regularExpression) != nil else {
            throw fail(nameNode, "sources[\(index)].name", "'\(name)' must match [a-z0-9_]+")
        }
        let ctx = "sources.\(name)"
        try checkKeys(entries, allowed: ["name", "system", "entity", "format", "path", "table", "key", "freshness",
                                         "mapping", "checks", "delimiter", "date_formats", "snapshot", "region",
                                         "max_delete", "pii", "traits", "consent"], context: ctx)
        func required(_ k: String) throws -> (String, Node) {
            guard let n = value(k) else { throw fail(node, "\(ctx).\(k)", "missing") }
            return (try string(n, "\(ctx).\(k)"), n)
        }
        func oneOf<T: RawRepresentable & CaseIterable>(_ k: String, _ type: T.Type, default def: T? = nil) throws -> T
        where T.RawValue == String {
            guard let n = value(k) else {
                if let def { return def }
                throw fail(node, "\(ctx).\(k)", "missing")
            }
            let text = try string(n, "\(ctx).\(k)")
            guard let v = T(rawValue: text) else {
                throw fail(n, "\(ctx).\(k)", "'\(text)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return v
        }
        let system = try required("system").0
        let entity = try oneOf("entity", Entity.self)
        let format = try oneOf("format", SourceFormat.self)
        // An http source has no files: its rows are pushed to `steward serve` (POST /v1/events/NAME).
        if format == .http, let n = value("path") {
            throw fail(n, "\(ctx).path", "an http source has no files (its events are POSTed to /v1/events/\(name)); remove `path:`")
        }
        let (path, pathNode) = format == .http ? ("", nameNode) : try required("path")
        if Self.leavesProject(path) {
            throw fail(pathNode, "\(ctx).path", "'\(path)' leaves the project folder; write a path inside it, or an absolute path")
        }
        if format != .http, let problem = Glob.syntaxProblem(path) { throw fail(pathNode, "\(ctx).path", problem) }
        let key = try required("key").0
        var table: String?
        if let n = value("table") { table = try string(n, "\(ctx).table") }
        if format == .sqlite && table == nil { throw fail(node, "\(ctx).table", "sqlite sources need `table:`") }
        var warnAfter: TimeInterval?, errorAfter: TimeInterval?
        if let n = value("freshness") {
            let e = try mapping(n, "\(ctx).freshness")
            try checkKeys(e, allowed: ["warn_after", "error_after"], context: "\(ctx).freshness")
            for item in e {
                let d = try duration(item.value, "\(ctx).freshness.\(item.key)")
                if item.key == "warn_after" { warnAfter = d } else { errorAfter = d }
            }
            if let w = warnAfter, let e = errorAfter, w > e {
                throw fail(n, "\(ctx).freshness", "warn_after must not exceed error_after")
            }
        }
        var delimiter: UInt8 = UInt8(ascii: ",")
        if let n = value("delimiter") {
            let d = try string(n, "\(ctx).delimiter")
            let resolved = d == "\\t" ? "\t" : d
            guard resolved.utf8.count == 1, let b = resolved.utf8.first, b != UInt8(ascii: "\"") , b != 10, b != 13 else {
                throw fail(n, "\(ctx).delimiter", "expected one character (not a quote or newline), got '\(d)'")
            }
            delimiter = b
        }
        var dateFormats: [String] = []
        if let n = value("date_formats") {
            dateFormats = try strings(n, "\(ctx).date_formats")
            for f in dateFormats {
                if let problem = vocabulary.dateFormatProblem(f) { throw fail(n, "\(ctx).date_formats", "'\(f)': \(problem)") }
            }
        }
        var sourceRegion: String?
        if let n = value("region") {
            let r = try string(n, "\(ctx).region").uppercased()
            if !vocabulary.isCountryCode(r) {
                throw fail(n, "\(ctx).region", "'\(r)' is not an ISO 3166 alpha-2 country code")
            }
            sourceRegion = r
        }
        let snapshot = try oneOf("snapshot", Snapshot.self, default: .incremental)
        if format == .http && snapshot == .full {
            throw fail(value("snapshot"), "\(ctx).snapshot", "an http source receives events one request at a time; it cannot be a full snapshot")
        }
        var maxDelete = 0.10
        if let n = value("max_delete") {
            // "10%" or a fraction; the deletion guard only judges full snapshots.
            let text = try string(n, "\(ctx).max_delete").trimmingCharacters(in: .whitespaces)
            let parsed = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
            guard let share = parsed, share.isFinite, share >= 0, share <= 1 else {
                throw fail(n, "\(ctx).max_delete", "expected a share of the live records between 0% and 100% (e.g. 10%), got '\(text)'")
            }
            maxDelete = share
        }
        var piiColumns: [String] = []
        if let n = value("pii") {
            // Column names as the files write them; a column the files lack masks nothing, so it is not
            // checked against headers (config loading never reads source files).
            guard let seq = n.sequence, !seq.isEmpty else {
                throw fail(n, "\(ctx).pii", "expected a list of columns holding personal data, e.g. [Notes, LoyaltyCard]")
            }
            for item in seq {
                let column = try string(item, "\(ctx).pii")
                if column.trimmingCharacters(in: .whitespaces).isEmpty { throw fail(item, "\(ctx).pii", "a column name cannot be empty") }
                if piiColumns.contains(column) { throw fail(item, "\(ctx).pii", "'\(column)' is listed twice") }
                piiColumns.append(column)
            }
        }

        var mapping: [(field: String, value: FieldMapping)] = []
        if let n = value("mapping") {
            let allowed = entity == .person ? Canonical.personFields : entity == .campaign ? Canonical.campaignFields : Canonical.activityFields
            for e in try self.mapping(n, "\(ctx).mapping") {
                guard allowed.contains(e.key) else {
                    throw fail(e.keyNode, "\(ctx).mapping.\(e.key)",
                               "not a canonical \(entity.rawValue) field; expected one of: \(allowed.joined(separator: ", "))")
                }
                let parsed = try fieldMapping(e.value, field: e.key, ctx: "\(ctx).mapping.\(e.key)", entity: entity, allowed: allowed)
                // A campaign row is staged in the activity columns (Canonical.campaignStaging).
                mapping.append((entity == .campaign ? Canonical.campaignStaging[e.key]! : e.key, parsed))
            }
        }
        if entity == .campaign, let missing = Canonical.campaignFields.first(where: { f in !mapping.contains { $0.field == Canonical.campaignStaging[f] } }) {
            throw fail(value("mapping") ?? node, "\(ctx).mapping.\(missing)", "missing: a campaign source maps campaign, audience, spend and date")
        }
        if entity != .person, let ref = mapping.first(where: { $0.field == "customer_ref" }),
           case .canonical(let field) = ref.value, !mapping.contains(where: { $0.field == field }) {
            throw fail(value("mapping"), "\(ctx).mapping.customer_ref", "refers to '\(field)', which is not mapped")
        }
        var checks: [CheckConfig] = []
        if let n = value("checks") {
            guard let seq = n.sequence else { throw fail(n, "\(ctx).checks", "expected a list") }
            for c in seq { checks.append(contentsOf: try CheckParser(reader: self, ctx: "\(ctx).checks").parse(c)) }
            var seen: [String: Int] = [:]
            for i in checks.indices {
                let base = checks[i].name
                seen[base, default: 0] += 1
                if seen[base]! > 1 { checks[i].name = "\(base)_\(seen[base]!)" }
            }
        }
        var source = SourceConfig(
            name: name, system: system, entity: entity, format: format, path: path, table: table, key: key,
            warnAfter: warnAfter, errorAfter: errorAfter, mapping: mapping, checks: checks, delimiter: delimiter,
            dateFormats: dateFormats, snapshot: snapshot, region: sourceRegion, line: pathNode.mark?.line ?? 0,
            maxDelete: maxDelete, piiColumns: piiColumns)
        // Custom traits and consent statements: ActivationConfig.swift.
        if let n = value("traits") { source.traits = try traitDeclarations(n, ctx: ctx, entity: entity) }
        if let n = value("consent") { source.consent = try consentMappings(n, ctx: ctx, entity: entity) }
        return source
    }

    func fieldMapping(_ node: Node, field: String, ctx: String, entity: Entity, allowed: [String]) throws -> FieldMapping {
        let line = node.mark?.line ?? 0
        if node.mapping != nil {
            guard field == "customer_ref" else { throw fail(node, ctx, "expected a column name or a {template}") }
            let e = try mapping(node, ctx)
            try checkKeys(e, allowed: ["source", "column"], context: ctx)
            guard let s = e.first(where: { $0.key == "source" }), let c = e.first(where: { $0.key == "column" }) else {
                throw fail(node, ctx, "expected {source: NAME, column: COL}")
            }
            return .reference(source: try string(s.value, ctx), column: try string(c.value, ctx))
        }
        let text = try string(node, ctx)
        if field == "customer_ref" {
            guard ["email", "phone", "national_id"].contains(text) else {
                throw fail(node, ctx, "expected email, phone, national_id or {source: NAME, column: COL}")
            }
            return .canonical(text)
        }
        if text.contains("{") {
            guard let parts = Template.parse(text) else { throw fail(node, ctx, "unbalanced braces in template '\(text)'") }
            return .template(parts, line: line)
        }
        return .column(text, line: line)
    }

    func checkCycles(_ sources: [SourceConfig]) throws {
        var state: [String: Int] = [:]
        let byName = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0) })
        func visit(_ name: String, _ path: [String]) throws {
            if state[name] == 2 { return }
            if state[name] == 1 {
                let s = byName[name]!
                throw ConfigError(file: file, line: s.line, key: "sources.\(name)",
                                  message: "relationship cycle: \((path + [name]).joined(separator: " → "))")
            }
            state[name] = 1
            for d in byName[name]?.dependencies ?? [] { try visit(d, path + [name]) }
            state[name] = 2
        }
        for s in sources { try visit(s.name, []) }
    }
}

public enum Canonical {
    public static let personFields = ["first_name", "last_name", "full_name", "email", "phone", "dob", "street",
                                      "city", "postcode", "region", "country", "national_id"]
    public static let activityFields = ["customer_ref", "occurred_at", "amount", "type", "email", "phone", "national_id"]
    /// `entity: campaign`: spend per campaign and audience on a date.
    public static let campaignFields = ["campaign", "audience", "spend", "date"]
    /// Where a campaign field is staged in `staged_activity` (the audience in `customer_ref`, kind `audience`).
    public static let campaignStaging = ["campaign": "type", "audience": "customer_ref", "spend": "amount", "date": "occurred_at"]
}

enum Template {
    /// "{street_number} {address_1}" → [.column(street_number), .literal(" "), .column(address_1)]
    static func parse(_ text: String) -> [TemplatePart]? {
        var parts: [TemplatePart] = []
        var literal = "", column: String?
        for ch in text {
            if ch == "{" {
                guard column == nil else { return nil }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                column = ""
            } else if ch == "}" {
                guard let c = column, !c.isEmpty else { return nil }
                parts.append(.column(c)); column = nil
            } else if column != nil { column!.append(ch) } else { literal.append(ch) }
        }
        guard column == nil else { return nil }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }
}
