import Foundation
import StewardCatalog
import StewardConfig
import StewardMetrics

/// A batch as sent: its id (never reused; a re-sent batch keeps it) and its changes.
public struct SyncBatchPayload: Sendable {
    public var destination: String
    public var batchId: Int64
    public var changes: [SyncChange]

    /// The webhook body of docs/CONTRACTS.md: `{"destination", "batch_id", "changes": [{"op",
    /// "customer_id", "audience", "fields": {...}}]}`.
    public var jsonObject: [String: Any] {
        [
            "destination": destination,
            "batch_id": batchId,
            "changes": changes.map { c -> [String: Any] in
                var fields: [String: Any] = [:]
                for f in c.fields { fields[f.name] = f.value.jsonObject }
                var change: [String: Any] = ["op": c.op.rawValue, "customer_id": c.sentCustomerId ?? c.customerId, "audience": c.audience,
                                             "fields": fields]
                // A CRM write-back names the CRM's record.
                if c.sentCustomerId != nil { change["record_id"] = c.customerId }
                return change
            },
        ]
    }

    /// The body as stored with the batch (re-sent byte for byte) and posted: `jsonObject` with its keys
    /// sorted, written over bytes (JSONSerialization's sorted writing was 70 % of a 100,000-change sync).
    public var body: Data {
        var out: [UInt8] = []
        out.reserveCapacity(64 + changes.count * 96)
        func key(_ k: String) { JSONString.appendQuoted(k, to: &out); out.append(UInt8(ascii: ":")) }
        func value(_ v: SyncValue) {
            switch v {
            case .text(let t): JSONString.appendQuoted(t, to: &out)
            case .number(let d): out.append(contentsOf: (d.isFinite ? v.text : "null").utf8)
            case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
            case .null: out.append(contentsOf: "null".utf8)
            }
        }
        out.append(contentsOf: #"{"batch_id":"#.utf8)
        out.append(contentsOf: String(batchId).utf8)
        out.append(contentsOf: #","changes":["#.utf8)
        for (i, c) in changes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{")); key("audience"); JSONString.appendQuoted(c.audience, to: &out)
            out.append(UInt8(ascii: ",")); key("customer_id"); JSONString.appendQuoted(c.sentCustomerId ?? c.customerId, to: &out)
            out.append(UInt8(ascii: ",")); key("fields"); out.append(UInt8(ascii: "{"))
            // A field named twice keeps its last value, as the dictionary it stands for does.
            var last: [String: SyncValue] = [:]
            for f in c.fields { last[f.name] = f.value }
            for (j, name) in last.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if j > 0 { out.append(UInt8(ascii: ",")) }
                key(name); value(last[name]!)
            }
            out.append(UInt8(ascii: "}"))
            out.append(UInt8(ascii: ",")); key("op"); JSONString.appendQuoted(c.op.rawValue, to: &out)
            // A CRM write-back names the CRM's record.
            if c.sentCustomerId != nil { out.append(UInt8(ascii: ",")); key("record_id"); JSONString.appendQuoted(c.customerId, to: &out) }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"destination":"#.utf8)
        JSONString.appendQuoted(destination, to: &out)
        out.append(UInt8(ascii: "}"))
        return Data(out)
    }
}

/// Sends one batch somewhere; returns nil when the receiver took it, else what went wrong (in words
/// without values: the message is stored and shown).
public protocol DestinationDelivery: Sendable {
    func deliver(_ batch: SyncBatchPayload, body: Data) -> String?
}

/// `type: webhook` (and a `crm` destination with `url:`): POSTs the JSON body with the project's webhook
/// client (`AlertNotifier.post`: no redirects followed, a non-2xx answer is a failure).
public struct WebhookDestination: DestinationDelivery {
    public let url: String
    public let timeout: TimeInterval
    let client: AlertNotifier

    public init(url: String, catalog: Catalog, timeout: TimeInterval = 10) {
        self.url = url
        self.timeout = timeout
        self.client = AlertNotifier(projectName: "", webhooks: [], catalog: catalog, timeout: timeout, log: { _ in })
    }

    /// Posts the stored body itself: a re-sent batch is the same bytes as its first attempt.
    public func deliver(_ batch: SyncBatchPayload, body: Data) -> String? {
        client.post(data: body, to: url)
    }
}

/// `type: file` (and a `crm` destination with `path:`): one drop per batch beside `path`, named after it
/// and the batch id (`out/win_back.csv` → `out/win_back.000042.csv`), written private (0600) and atomic
/// by `PrivateFiles`; a re-sent batch rewrites its own drop, so a reader sees each batch once.
public struct FileDropDestination: DestinationDelivery {
    public let path: URL
    public let format: DestinationConfig.FileFormat
    public let fields: [String]

    public init(path: URL, format: DestinationConfig.FileFormat, fields: [String]) {
        self.path = path
        self.format = format
        self.fields = fields
    }

    public func dropURL(batchId: Int64) -> URL {
        let dir = path.deletingLastPathComponent()
        let ext = path.pathExtension.isEmpty ? format.rawValue : path.pathExtension
        let stem = path.deletingPathExtension().lastPathComponent
        return dir.appendingPathComponent("\(stem).\(String(format: "%06lld", batchId)).\(ext)")
    }

    public func deliver(_ batch: SyncBatchPayload, body: Data) -> String? {
        let url = dropURL(batchId: batch.batchId)
        do {
            try PrivateFiles.createFolder(url.deletingLastPathComponent())
            try PrivateFiles.writeRegularFile(Array(render(batch).utf8), to: url)
            return nil
        } catch let error as PrivateFileError {
            return error.description
        } catch {
            return "cannot write \(url.path)"
        }
    }

    /// CSV: `batch_id,op,audience,customer_id,FIELD…` (RFC 4180 quoting); NDJSON: one object a change.
    func render(_ batch: SyncBatchPayload) -> String {
        let extra = fields.filter { $0 != "customer_id" }
        switch format {
        case .csv:
            var out = (["batch_id", "op", "audience", "customer_id"] + extra).map(Self.csv).joined(separator: ",") + "\n"
            for c in batch.changes {
                let values = Dictionary(c.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
                let cells = [String(batch.batchId), c.op.rawValue, c.audience, c.sentCustomerId ?? c.customerId] + extra.map { values[$0]?.text ?? "" }
                out += cells.map(Self.csv).joined(separator: ",") + "\n"
            }
            return out
        case .ndjson:
            var out = ""
            for c in batch.changes {
                var object: [String: Any] = ["batch_id": batch.batchId, "op": c.op.rawValue, "audience": c.audience,
                                             "customer_id": c.sentCustomerId ?? c.customerId]
                for f in c.fields where f.name != "customer_id" { object[f.name] = f.value.jsonObject }
                let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
                out += String(decoding: data, as: UTF8.self) + "\n"
            }
            return out
        }
    }

    static func csv(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
