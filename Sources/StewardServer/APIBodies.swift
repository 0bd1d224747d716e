import Foundation
import StewardActivation
import StewardCatalog
import StewardConfig
import StewardIdentity
import StewardMetrics
import StewardPipeline
import StewardRoadmap

/// The API's JSON bodies: the same shapes, field for field, as the CLI's `--json` (docs/CONTRACTS.md),
/// so a script can move between `steward status --json` and `GET /v1/sources` unchanged.
/// ServeContractTests compares both on the same catalog.
public enum APIBodies {
    static func iso(_ date: Date?) -> Any { date.map(Timestamp.string) ?? NSNull() }
    static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    /// `steward status --json`.
    public static func status(project: String, sources: [SourceOverview], lastRun: RunInfo?) -> [String: Any] {
        [
            "project": project,
            "sources": sources.map { s in [
                "name": s.name, "system": s.system, "entity": s.entity, "status": s.status.rawValue,
                "status_reason": s.statusReason, "last_loaded_at": iso(s.lastLoadedAt),
                "rows_raw": s.rowsRaw, "rows_staged": s.rowsStaged, "rows_quarantined": s.rowsQuarantined,
                "rows_flagged": s.rowsFlagged, "quality_score": orNull(s.qualityScore),
                "freshness": ["age_seconds": orNull(s.freshnessAge.map { Int($0) }), "status": s.freshnessStatus.rawValue,
                              "warn_after_seconds": orNull(s.warnAfter), "error_after_seconds": orNull(s.errorAfter)],
            ] as [String: Any] },
            "last_run": lastRun.map { r in ["id": r.id, "status": r.status, "started_at": iso(r.startedAt),
                                            "finished_at": iso(r.finishedAt)] as [String: Any] } ?? NSNull(),
        ]
    }

    /// `steward quality --json`.
    public static func quality(_ q: QualityOverview) -> [String: Any] {
        var dims: [String: Any] = [:]
        for d in QualityDimension.allCases { dims[d.rawValue] = orNull(q.dimensions[d]) }
        return [
            "score": orNull(q.score), "dimensions": dims, "trend": q.trend,
            "sources": q.sources.map { s in [
                "name": s.source, "score": orNull(s.score), "rows": s.weight,
                "checks": s.checks.map { c in [
                    "name": c.name, "type": c.type, "column": orNull(c.column), "dimension": c.dimension,
                    "severity": c.severity, "passed": c.passed, "failed": c.failed, "evaluated": c.evaluated,
                    "score": orNull(c.score), "status": c.status, "samples": c.samples,
                ] as [String: Any] },
            ] as [String: Any] },
        ]
    }

    /// `steward runs --json` (newest first).
    public static func runs(_ runs: [RunInfo]) -> [[String: Any]] {
        runs.map { r in [
            "id": r.id, "trigger": r.trigger, "status": r.status, "started_at": iso(r.startedAt),
            "finished_at": iso(r.finishedAt), "actor": r.actor, "rows_read": r.rowsRead, "rows_loaded": r.rowsLoaded,
            "rows_quarantined": r.rowsQuarantined, "message": orNull(r.message),
            "steps": r.steps.map { s in [
                "source": s.source, "status": s.status, "rows_read": s.rowsRead, "rows_loaded": s.rowsLoaded,
                "rows_quarantined": s.rowsQuarantined, "batches": s.batches, "duration_ms": orNull(s.durationMs),
                "message": orNull(s.message),
            ] as [String: Any] },
        ] }
    }

    /// One KPI of `steward kpi --json`.
    public static func kpi(_ k: KPIStatus) -> [String: Any] {
        let due = k.definition.due.map { String(Timestamp.string($0).prefix(10)) } ?? k.definition.dueText
        var o: [String: Any] = [
            "name": k.name, "target": k.definition.targetText, "actual": orNull(k.value),
            "actual_text": k.value.map { k.unit.format($0) } ?? NSNull(), "unit": k.unit.rawValue,
            "status": k.status.rawValue, "due": orNull(due), "reason": k.reason,
            "measure": k.definition.measure.rawValue, "origin": k.definition.origin.rawValue,
            "baseline": orNull(k.definition.baseline?.value), "trend": k.trend,
            "comparison": orNull(k.definition.target?.comparison.rawValue),
            "target_value": orNull(k.definition.target?.value),
        ]
        if !k.result.parts.isEmpty {
            o["parts"] = k.result.parts.map { ["name": $0.label, "value": orNull($0.value), "note": $0.note] as [String: Any] }
        }
        if let b = k.result.budget {
            o["error_budget"] = ["window_seconds": b.window, "allowed_seconds": b.allowed, "used_seconds": b.used,
                                 "left_seconds": b.left, "fraction_left": b.fractionLeft]
        }
        return o
    }

    /// `steward check --json`.
    public static func health(_ report: HealthReport) -> [String: Any] {
        [
            "status": report.status.rawValue,
            "problems": report.problems.map { ["kind": $0.kind, "subject": $0.subject, "message": $0.message,
                                               "severity": $0.severity.rawValue] },
            "kpis": report.kpis.map(kpi),
            "anomalies": report.anomalies.map { a in [
                "metric": a.metric.rawValue, "subject": a.subject, "run_id": a.runId, "value": a.value,
                "median": a.median, "expected_low": a.expectedLow, "expected_high": a.expectedHigh, "z": a.z,
            ] as [String: Any] },
        ]
    }

    /// `steward customer search --json`: emails and phones masked as the CLI masks them unless revealed.
    public static func search(_ hits: [CustomerSearch.Hit], reveal: Bool) -> [[String: Any]] {
        hits.map { h in
            ["customer_id": h.customerId, "name": h.name,
             "email": orNull(reveal ? h.email : Mask.email(h.email)),
             "phone": orNull(reveal ? h.phone : Mask.phone(h.phone)),
             "city": orNull(h.city), "rank": h.rank]
        }
    }

    /// `encode(search(hits, reveal:))`, the same bytes, written directly: JSONSerialization with sorted
    /// keys was a tenth of an uncached search's CPU at a million customers (boxing every value into
    /// NSDictionary and sorting its keys per hit). SearchBodyTests holds it to JSONSerialization's bytes.
    public static func searchJSON(_ hits: [CustomerSearch.Hit], reveal: Bool) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(2 + hits.count * 160)
        func field(_ key: StaticString, _ value: String?, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            out.append(contentsOf: "\":".utf8)
            if let value { JSONString.appendSerialized(value, to: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        out.append(UInt8(ascii: "["))
        for (i, h) in hits.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            // The keys in JSONSerialization's sorted order.
            out.append(UInt8(ascii: "{"))
            field("city", h.city, first: true)
            field("customer_id", h.customerId)
            field("email", reveal ? h.email : Mask.email(h.email))
            field("name", h.name)
            field("phone", reveal ? h.phone : Mask.phone(h.phone))
            out.append(contentsOf: ",\"rank\":".utf8)
            out.append(contentsOf: String(h.rank).utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return Data(out)
    }

    /// `steward customer show --json`: the golden record and its history masked by the PII policy unless revealed.
    /// `steward customer show --json` (the CLI prints this very body): the 360 with activation's
    /// custom traits (masked like golden values unless revealed), consent per channel and audiences.
    public static func customer(_ c: Customer360, activation: CustomerActivationProfile, reveal: Bool) -> [String: Any] {
        let golden = reveal ? c.golden : c.maskedGolden
        let history = reveal ? c.history : c.maskedHistory
        return [
            "customer_id": c.customerId, "requested_id": c.requestedId,
            "golden": golden, "provenance": c.provenance,
            "sources": c.sources.map { ["source": $0.source, "record_id": $0.recordId, "match_probability": orNull($0.matchProbability)] },
            "history": history.map { $0.mapValues { orNull($0) } },
            "addresses": c.addresses.map { ["street": orNull(reveal ? $0.street : Mask.other($0.street)), "city": orNull($0.city),
                                            "postcode": orNull($0.postcode), "country": orNull($0.country), "records": $0.sources,
                                            "is_current": $0.isCurrent, "first_seen_run": $0.firstSeenRun, "last_seen_run": $0.lastSeenRun] },
            "activity": ["orders": c.orders, "revenue": c.revenue, "last_order_at": orNull(c.lastOrderAt), "tickets": c.tickets, "events": c.events],
            "segment": orNull(c.score?.segment), "churn_score": orNull(c.score?.churnScore),
            "rfm": c.score.map { s -> Any in ["recency_days": orNull(s.recencyDays), "frequency": s.frequency, "monetary": s.monetary,
                                              "r": orNull(s.r), "f": orNull(s.f), "m": orNull(s.m)] } ?? NSNull(),
            "traits": Dictionary(uniqueKeysWithValues: activation.traits.map { ($0.name, $0.json(reveal: reveal)) }),
            "trait_provenance": Dictionary(uniqueKeysWithValues: activation.traits.map { ($0.name, "\($0.source):\($0.recordKey)") }),
            "consent": Dictionary(uniqueKeysWithValues: activation.consent.map {
                ($0.channel, ["granted": $0.consents, "statement": $0.granted.map { $0 ? "granted" : "withdrawn" } ?? "none",
                              "at": orNull($0.at), "source": orNull($0.source)] as [String: Any]) }),
            "audiences": activation.audiences.map { ["name": $0.name, "holdout": $0.holdout] },
        ]
    }

    /// `steward roadmap list --json`: the plan's tasks with due dates, evidence, notes and last changes
    /// (the CLI prints this very body).
    public static func roadmapTasks(_ document: RoadmapDocument, evidence: RoadmapEvidence, notes: [String: RoadmapNote],
                                    changes: [String: RoadmapChangeRecord], today: Day) -> [[String: Any]] {
        document.tasks.map { t -> [String: Any] in
            var o: [String: Any] = [
                "id": t.id, "phase": t.phase, "section": t.section, "text": t.plainText, "done": t.isDone,
                "line": t.line, "due": orNull(t.due?.description), "state": t.state.rawValue,
                "depth": t.depth, "parent": orNull(t.parent.map { document.tasks[$0].id }),
                "overdue": !t.isDone && (t.due.map { $0 < today } ?? false),
                "evidence": orNull(evidence.byTask[t.id].map { e -> [String: Any] in
                    ["condition": e.condition.description, "status": e.mark.rawValue, "reason": e.result.reason]
                }),
                "note": orNull(notes[t.id]?.note),
            ]
            if let c = changes[t.id] {
                o["last_change"] = ["actor": c.actor, "at": Timestamp.string(c.at), "done": c.done]
            } else { o["last_change"] = NSNull() }
            return o
        }
    }

    /// The answer to `POST /v1/events/{source}`: counts, and each quarantined event's line and reasons
    /// (check names and columns, never values).
    public static func intake(_ r: EventIntake.Receipt, requestId: String) -> [String: Any] {
        [
            "accepted": r.accepted, "quarantined": r.quarantined, "unchanged": r.unchanged,
            "rejected": r.rejected.map { ["line": $0.line, "reasons": $0.reasons] as [String: Any] },
            "request_id": requestId, "run_id": r.runId, "batch_id": r.batchId,
        ]
    }

    /// `{"error": {"code", "message"}}`: every error the API answers.
    public static func error(code: String, message: String) -> [String: Any] {
        ["error": ["code": code, "message": message]]
    }

    /// Compact JSON with sorted keys, as the CLI prints it (less the indentation).
    public static func encode(_ value: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }
}
