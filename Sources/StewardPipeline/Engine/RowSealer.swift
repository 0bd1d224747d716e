import Foundation
import StewardCatalog
import StewardConfig

/// Seals a row's PII before it is stored, when the catalog's privacy vault is on: the cells of the
/// columns the source's mapping makes personal (`PIIPolicy`) in its raw and quarantined texts, and
/// the standardised person fields in staging. Runs on the reader thread, beside the checks.
struct RowSealer {
    let vault: Vault
    /// For rows matching the header: whether each position is personal.
    let positions: [Bool]
    let hasPositions: Bool
    /// Personal column names, for rows with their own keys (NDJSON).
    let policy: PIIPolicy
    let source: String

    init?(vault: Vault?, source: SourceConfig, header: [String]) {
        guard let vault else { return nil }
        let policy = PIIPolicy(sources: [source])
        self.vault = vault
        positions = header.map { policy.kind(source: source.name, column: $0) != nil }
        hasPositions = positions.contains(true)
        self.policy = policy
        self.source = source.name
    }

    /// A stored value: sealed, except empty text (nothing to hide, and "is empty" checks stay readable).
    func seal(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return value }
        return vault.seal(value)
    }

    /// The row's raw-layer text with its personal cells sealed.
    func rawText(_ row: borrowing SourceRow, quotedKeys: [[UInt8]]) -> String {
        switch row.values {
        case .positional(let fields):
            // A ragged row's values may sit under the wrong columns: all of them are sealed.
            guard row.rawIsArray else { return JSONText.object(quotedKeys: quotedKeys, values: sealPositional(fields, all: true)) }
            guard hasPositions else { return row.rawText }
            return JSONText.array(quotedKeys: quotedKeys, values: sealPositional(fields, all: false)).text
        case .keyed(let values):
            if row.problem != nil { return wholeLine(row.rawText) }
            return sealKeyed(values) ?? row.rawText
        }
    }

    /// A line that could not be read (invalid JSON): no column is known, so all of it is sealed, as
    /// one JSON string.
    private func wholeLine(_ text: String) -> String {
        var out: [UInt8] = []
        JSONText.appendQuotedBytes(vault.seal(text), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The row as a JSON object (quarantine's text) with its personal cells sealed.
    func objectText(_ row: borrowing SourceRow, quotedKeys: [[UInt8]]) -> String {
        switch row.values {
        case .positional(let fields):
            return JSONText.object(quotedKeys: quotedKeys, values: sealPositional(fields, all: !row.rawIsArray))
        case .keyed(let values):
            if row.problem != nil { return wholeLine(row.rawText) }
            return sealKeyed(values) ?? row.rawText
        }
    }

    private func sealPositional(_ fields: [String], all: Bool) -> [String] {
        var out = fields
        for i in out.indices where (all || (i < positions.count && positions[i])) && !out[i].isEmpty { out[i] = vault.seal(out[i]) }
        return out
    }

    /// An NDJSON row holding a personal key, rebuilt as an object of its values with those sealed
    /// (keys sorted; the line as written cannot be kept without its plaintext). Nil: nothing to seal.
    private func sealKeyed(_ values: [String: String]) -> String? {
        func personal(_ key: String) -> Bool { policy.kind(source: source, column: key) != nil }
        guard values.keys.contains(where: personal) else { return nil }
        let keys = values.keys.sorted()
        return JSONText.object(keys: keys, values: keys.map { k in
            let v = values[k]!
            return personal(k) && !v.isEmpty ? vault.seal(v) : v
        })
    }
}
