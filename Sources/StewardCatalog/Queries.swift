import Foundation
import GRDB

/// Read queries: cheap summaries for panes and CLI tables. Each reads summary tables or indexed
/// recent history, never a full scan of raw or staged rows.
extension Catalog {
    public func projectSources() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM source ORDER BY name") }
    }

    public func sourceOverviews(now: Date = Date(), qualityThreshold: Double = 0.95) throws -> [SourceOverview] {
        try pool.read { db in try Self.sourceOverviews(db, now: now, qualityThreshold: qualityThreshold) }
    }

    static func sourceOverviews(_ db: Database, now: Date, qualityThreshold: Double) throws -> [SourceOverview] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT s.name, s.system, s.entity, s.format, s.warn_after_seconds, s.error_after_seconds,
                   st.rows_raw, st.rows_staged, st.rows_quarantined, st.rows_flagged, st.last_loaded_at, st.quality_score
            FROM source s LEFT JOIN source_stats st ON st.source = s.name
            ORDER BY s.name
            """)
        let recentRuns = try Int64.fetchAll(db, sql: "SELECT id FROM run ORDER BY id DESC LIMIT 12").reversed()
        let firstRecent = recentRuns.first ?? 0
        var sparkByRun: [String: [Int64: Int]] = [:]
        for step in try Row.fetchAll(db, sql: """
            SELECT source, run_id, rows_read FROM run_step WHERE run_id >= ?
            """, arguments: [firstRecent]) {
            sparkByRun[step["source"], default: [:]][step["run_id"]] = step["rows_read"]
        }
        var lastSteps: [String: Row] = [:]
        for step in try Row.fetchAll(db, sql: """
            SELECT rs.source, rs.status, rs.message, r.pid FROM run_step rs
            JOIN (SELECT source, MAX(id) AS id FROM run_step GROUP BY source) last ON last.id = rs.id
            JOIN run r ON r.id = rs.run_id
            """) {
            lastSteps[step["source"]] = step
        }
        return rows.map { row in
            let name: String = row["name"]
            let lastLoaded = (row["last_loaded_at"] as String?).flatMap(Timestamp.date)
            let warnAfter: Double? = row["warn_after_seconds"]
            let errorAfter: Double? = row["error_after_seconds"]
            let age = lastLoaded.map { now.timeIntervalSince($0) }
            let freshness: FreshnessStatus
            if let age {
                if let e = errorAfter, age > e { freshness = .error }
                else if let w = warnAfter, age > w { freshness = .warn }
                else { freshness = .ok }
            } else { freshness = .never }
            let score: Double? = row["quality_score"]
            let step = lastSteps[name]
            // A step left `running` by a process that is gone shows as interrupted (RunLiveness).
            let recordedStep: String? = step?["status"]
            let stepStatus = recordedStep.map { RunLiveness.status($0, pid: step?["pid"]) }
            let recordedMessage: String? = step?["message"]
            let stepMessage = recordedStep != stepStatus ? RunLiveness.goneMessage : recordedMessage
            let (health, reason) = Self.health(
                freshness: freshness, age: age, stepStatus: stepStatus, stepMessage: stepMessage,
                score: score, threshold: qualityThreshold, quarantined: row["rows_quarantined"] ?? 0)
            return SourceOverview(
                name: name, system: row["system"], entity: row["entity"], format: row["format"],
                status: health, statusReason: reason,
                lastLoadedAt: lastLoaded, freshnessAge: age, freshnessStatus: freshness,
                warnAfter: warnAfter, errorAfter: errorAfter,
                rowsRaw: row["rows_raw"] ?? 0, rowsStaged: row["rows_staged"] ?? 0,
                rowsQuarantined: row["rows_quarantined"] ?? 0, rowsFlagged: row["rows_flagged"] ?? 0,
                qualityScore: score,
                recentRows: recentRuns.map { sparkByRun[name]?[$0] ?? 0 },
                lastStepStatus: stepStatus, lastStepMessage: stepMessage)
        }
    }

    /// One place for the rule that turns facts about a source into its health mark.
    static func health(freshness: FreshnessStatus, age: TimeInterval?, stepStatus: String?, stepMessage: String?,
                       score: Double?, threshold: Double, quarantined: Int) -> (SourceHealth, String) {
        if stepStatus == "running" { return (.running, "loading") }
        if stepStatus == "failed" { return (.error, stepMessage ?? "last load failed") }
        // Held deletions: what the source sent is not applied until a person allows it.
        if stepStatus == "held" { return (.error, stepMessage ?? "deletions held by the deletion guard") }
        if freshness == .never { return (.never, "never loaded") }
        if freshness == .error { return (.stale, "no new data for \(Duration.describe(age ?? 0))") }
        if freshness == .warn { return (.warn, "late: no new data for \(Duration.describe(age ?? 0))") }
        if stepStatus == "warn" { return (.warn, stepMessage ?? "the last load had unreadable rows or skipped files") }
        if let score, score < threshold {
            return (.warn, String(format: "quality %.1f%% below %.0f%%", score * 100, threshold * 100))
        }
        return (.ok, quarantined > 0 ? "\(quarantined) rows in quarantine" : "healthy")
    }

    public func sourceDetail(_ name: String, now: Date = Date(), limit: Int = 50) throws -> SourceDetail? {
        try pool.read { db in
            guard let overview = try Self.sourceOverviews(db, now: now, qualityThreshold: 0.95)
                .first(where: { $0.name == name }) else { return nil }
            let batches = try Row.fetchAll(db, sql: """
                SELECT * FROM batch WHERE source = ? ORDER BY id DESC LIMIT ?
                """, arguments: [name, limit]).map(Self.batch)
            let steps = try Row.fetchAll(db, sql: """
                SELECT * FROM run_step WHERE source = ? ORDER BY id DESC LIMIT ?
                """, arguments: [name, limit]).map(Self.step)
            let quarantine = try Self.quarantine(db, source: name, limit: limit)
            let checks = try Self.latestChecks(db, source: name)
            return SourceDetail(overview: overview, batches: batches, steps: steps, quarantine: quarantine, checks: checks)
        }
    }

    /// Rows still in quarantine because they could not be read as written (the `readable` check), per
    /// source: the health gate warns while any remain, whichever file or run they came from.
    public func openUnreadableRows() throws -> [String: Int] {
        try pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT source, COUNT(*) FROM quarantine
                WHERE released_run IS NULL AND checks_json LIKE '["readable"%' GROUP BY source
                """) { counts[row[0]] = row[1] }
            return counts
        }
    }

    public func quarantine(source: String? = nil, limit: Int? = nil, includeReleased: Bool = false) throws -> [QuarantinedRow] {
        try pool.read { db in try Self.quarantine(db, source: source, limit: limit, includeReleased: includeReleased) }
    }

    static func quarantine(_ db: Database, source: String?, limit: Int?, includeReleased: Bool = false) throws -> [QuarantinedRow] {
        var sql = "SELECT * FROM quarantine WHERE 1"
        var args: StatementArguments = []
        if !includeReleased { sql += " AND released_run IS NULL" }
        if let source { sql += " AND source = ?"; args += [source] }
        sql += " ORDER BY id DESC"
        if let limit { sql += " LIMIT ?"; args += [limit] }
        // Sealed cells open here (in memory only; `[sealed]` without the vault's key): every screen
        // then masks them by the PII policy like any stored value.
        let vault = VaultBox.of(db)
        return try Row.fetchAll(db, sql: sql, arguments: args).map { quarantinedRow($0, vault: vault) }
    }

    static func quarantinedRow(_ row: Row, vault: VaultBox) -> QuarantinedRow {
        QuarantinedRow(
            id: row["id"], runId: row["run_id"], source: row["source"], file: row["file"], line: row["line"],
            recordKey: row["record_key"], checks: decodeStrings(row["checks_json"]),
            reasons: decodeStrings(row["reasons_json"]), raw: vault.revealJSON(row["raw"]),
            quarantinedAt: (row["quarantined_at"] as String?).flatMap(Timestamp.date))
    }

    /// Latest result of every defined check of a source: the sum over the batches of the last run that
    /// evaluated it (a run may load several files of one source). Usable inside the pipeline's transactions.
    public static func latestChecks(_ db: Database, source: String) throws -> [CheckStatus] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT d.source, d.name, d.type, d.column_name, d.dimension, d.severity, d.params_json,
                   r.run_id, SUM(r.evaluated) AS evaluated, SUM(r.passed) AS passed, SUM(r.failed) AS failed,
                   CASE WHEN r.run_id IS NULL THEN NULL
                        WHEN SUM(r.evaluated) = 0 THEN 1.0
                        ELSE CAST(SUM(r.passed) AS REAL) / SUM(r.evaluated) END AS score,
                   MAX(r.samples_json) AS samples_json
            FROM check_definition d
            LEFT JOIN check_result r ON r.source = d.source AND r.check_name = d.name AND r.run_id = (
                SELECT MAX(run_id) FROM check_result WHERE source = d.source AND check_name = d.name)
            WHERE d.source = ?
            GROUP BY d.name
            ORDER BY d.name
            """, arguments: [source])
        return rows.map(Self.checkStatus)
    }

    public func checks(source: String) throws -> [CheckStatus] {
        try pool.read { db in try Self.latestChecks(db, source: source) }
    }

    public func checkHistory(source: String, check: String, limit: Int = 30) throws -> [CheckHistoryPoint] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT run_id, SUM(evaluated) AS evaluated, SUM(passed) AS passed, SUM(failed) AS failed,
                       MAX(evaluated_at) AS evaluated_at FROM check_result
                WHERE source = ? AND check_name = ? GROUP BY run_id ORDER BY run_id DESC LIMIT ?
                """, arguments: [source, check, limit]).reversed().map { row in
                CheckHistoryPoint(runId: row["run_id"], evaluated: row["evaluated"], passed: row["passed"],
                                  failed: row["failed"], evaluatedAt: (row["evaluated_at"] as String?).flatMap(Timestamp.date))
            }
        }
    }

    /// Open quarantine rows that failed a given check (for a check's sample failing records).
    public func quarantine(source: String, check: String, limit: Int) throws -> [QuarantinedRow] {
        try pool.read { db in
            try Self.quarantine(db, source: source, limit: nil)
                .filter { $0.checks.contains(check) }
                .prefix(limit).map { $0 }
        }
    }

    public func qualityOverview(trendLength: Int = 20) throws -> QualityOverview {
        try pool.read { db in try Self.qualityOverview(db, trendLength: trendLength) }
    }

    /// The score formula applied to the latest results of every source (inside a read or a write:
    /// the pipeline snapshots it in the transaction that ends a run).
    public static func qualityOverview(_ db: Database, trendLength: Int = 20) throws -> QualityOverview {
        var sources: [SourceQuality] = []
        for name in try String.fetchAll(db, sql: "SELECT name FROM source ORDER BY name") {
            let checks = try latestChecks(db, source: name)
            let weight = try Int.fetchOne(db, sql: "SELECT quality_weight FROM source_stats WHERE source = ?",
                                          arguments: [name]) ?? 0
            sources.append(QualityScoring.sourceQuality(source: name, checks: checks, weight: weight))
        }
        let overall = QualityScoring.overall(sources)
        let trend = trendLength <= 0 ? [] : try Double.fetchAll(db, sql: """
            SELECT score FROM (SELECT run_id, score FROM quality_snapshot WHERE score IS NOT NULL
            ORDER BY run_id DESC LIMIT ?) ORDER BY run_id
            """, arguments: [trendLength])
        return QualityOverview(score: overall.score, dimensions: overall.dimensions, sources: sources, trend: trend)
    }

    public func runs(limit: Int = 20) throws -> [RunInfo] {
        try pool.read { db in
            let runs = try Row.fetchAll(db, sql: "SELECT * FROM run ORDER BY id DESC LIMIT ?", arguments: [limit])
            guard let oldest: Int64 = runs.last?["id"] else { return [] }
            var steps: [Int64: [StepInfo]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM run_step WHERE run_id >= ? ORDER BY id",
                                        arguments: [oldest]) {
                let step = Self.step(row)
                steps[step.runId, default: []].append(step)
            }
            return runs.map { row in
                let id: Int64 = row["id"]
                // A run left `running` by a process that is gone shows as interrupted (RunLiveness).
                let status = RunLiveness.status(row["status"], pid: row["pid"])
                let gone = status != row["status"] as String
                return RunInfo(
                    id: id, trigger: row["trigger"], status: status,
                    startedAt: (row["started_at"] as String?).flatMap(Timestamp.date),
                    finishedAt: (row["finished_at"] as String?).flatMap(Timestamp.date),
                    actor: row["actor"], rowsRead: row["rows_read"], rowsLoaded: row["rows_loaded"],
                    rowsQuarantined: row["rows_quarantined"], message: gone ? RunLiveness.goneMessage : row["message"] as String?,
                    steps: (steps[id] ?? []).map { step in
                        var step = step
                        if gone && step.status == "running" { step.status = "interrupted" }
                        return step
                    })
            }
        }
    }

    public func lastRun() throws -> RunInfo? { try runs(limit: 1).first }

    public func auditTail(limit: Int = 50) throws -> [AuditEvent] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_event ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                AuditEvent(id: row["id"], at: (row["at"] as String?).flatMap(Timestamp.date), actor: row["actor"],
                           action: row["action"], subject: row["subject"], detail: row["detail"])
            }
        }
    }

    /// Row counts of the big tables, for tests and diagnostics (these do scan).
    public func tableCounts() throws -> [String: Int] {
        try pool.read { db in
            var counts: [String: Int] = [:]
            for table in ["raw_record", "staged_person", "staged_activity", "quarantine", "batch", "run", "audit_event"] {
                counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            counts["quarantine_open"] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine WHERE released_run IS NULL") ?? 0
            return counts
        }
    }

    // MARK: row mapping

    static func batch(_ row: Row) -> BatchInfo {
        BatchInfo(id: row["id"], runId: row["run_id"], file: row["file"], sha256: row["sha256"], size: row["size"],
                  rows: row["rows"], rowsLoaded: row["rows_loaded"], rowsQuarantined: row["rows_quarantined"],
                  loadedAt: (row["loaded_at"] as String?).flatMap(Timestamp.date))
    }

    static func step(_ row: Row) -> StepInfo {
        StepInfo(runId: row["run_id"], source: row["source"], status: row["status"],
                 startedAt: (row["started_at"] as String?).flatMap(Timestamp.date), durationMs: row["duration_ms"],
                 batches: row["batches"], rowsRead: row["rows_read"], rowsLoaded: row["rows_loaded"],
                 rowsQuarantined: row["rows_quarantined"], message: row["message"])
    }

    static func checkStatus(_ row: Row) -> CheckStatus {
        CheckStatus(source: row["source"], name: row["name"], type: row["type"], column: row["column_name"],
                    dimension: row["dimension"], severity: row["severity"], params: row["params_json"],
                    runId: row["run_id"], evaluated: row["evaluated"] ?? 0, passed: row["passed"] ?? 0,
                    failed: row["failed"] ?? 0, score: row["score"], samples: decodeStrings(row["samples_json"]))
    }
}

func decodeStrings(_ json: String?) -> [String] {
    guard let json, let data = json.data(using: .utf8),
          let list = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return [] }
    return list.map { "\($0)" }
}

/// A JSON array of strings, built over bytes: ingest writes one per flagged or quarantined row.
public func encodeStrings(_ list: [String]) -> String {
    var out: [UInt8] = [UInt8(ascii: "[")]
    for (i, s) in list.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        JSONString.appendQuoted(s, to: &out)
    }
    out.append(UInt8(ascii: "]"))
    return String(decoding: out, as: UTF8.self)
}

/// JSON string literals as bytes: the one place Steward quotes and escapes a string by hand.
public enum JSONString {
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        append(s, shortEscapes: false, to: &out)
    }

    /// A string literal exactly as JSONSerialization writes it with `.withoutEscapingSlashes`: as
    /// `appendQuoted` but for \b and \f, which it writes short (`appendQuoted`: \u0008, \u000c).
    /// For bytes that must equal what JSONSerialization gave before: API bodies the CLI prints,
    /// pushed events' canonical text (issue 19).
    public static func appendSerialized(_ s: String, to out: inout [UInt8]) {
        append(s, shortEscapes: true, to: &out)
    }

    private static func append(_ s: String, shortEscapes: Bool, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { bytes in
            out.append(0x22)
            // Most values need no escaping: copy them in one go.
            if !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                out.append(contentsOf: bytes)
            } else {
                for b in bytes { appendEscaped(b, shortEscapes: shortEscapes, to: &out) }
            }
            out.append(0x22)
        }
    }

    @inline(__always)
    private static func appendEscaped(_ b: UInt8, shortEscapes: Bool, to out: inout [UInt8]) {
        switch b {
        case 0x22: out.append(0x5C); out.append(0x22)
        case 0x5C: out.append(0x5C); out.append(0x5C)
        case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
        case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
        case 0x08 where shortEscapes: out.append(0x5C); out.append(UInt8(ascii: "b"))
        case 0x0C where shortEscapes: out.append(0x5C); out.append(UInt8(ascii: "f"))
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            out.append(contentsOf: "\\u00".utf8)
            out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
        default: out.append(b)
        }
    }
}

/// Human durations: "45s", "12m", "3h 5m", "2d 4h".
public enum Duration {
    public static func describe(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(max(s, 0))s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86_400 { return s % 3600 / 60 == 0 ? "\(s / 3600)h" : "\(s / 3600)h \(s % 3600 / 60)m" }
        return s % 86_400 / 3600 == 0 ? "\(s / 86_400)d" : "\(s / 86_400)d \(s % 86_400 / 3600)h"
    }

    /// Parses "90s", "15m", "1h", "24h", "7d", "1h30m", "250ms".
    public static func parse(_ text: String) -> TimeInterval? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !t.isEmpty else { return nil }
        var total = 0.0, number = "", i = t.startIndex, sawUnit = false
        while i < t.endIndex {
            let c = t[i]
            if c.isNumber || c == "." { number.append(c); i = t.index(after: i); continue }
            var unit = String(c)
            let next = t.index(after: i)
            if c == "m", next < t.endIndex, t[next] == "s" { unit = "ms" }
            guard let value = Double(number) else { return nil }
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            case "d": total += value * 86_400
            case "w": total += value * 604_800
            default: return nil
            }
            number = ""; sawUnit = true
            i = t.index(i, offsetBy: unit.count)
        }
        if !number.isEmpty { guard !sawUnit, let v = Double(number) else { return nil }; total += v }
        return total
    }
}
