import Foundation
import StewardCatalog
import StewardConfig

/// Seals a row's PII before it is stored, when the catalog's privacy vault is on: its raw and
/// quarantined texts whole when a column the source's mapping makes personal (`PIIPolicy`) holds a
/// value, and the standardised person fields in staging one by one (joined on: deterministic).
/// Runs on the reader thread, beside the checks.
struct RowSealer {
    let vault: Vault
    /// For rows matching the header: whether each position is personal.
    let positions: [Bool]
    let hasPositions: Bool
    /// Which columns are personal, for rows with their own keys (NDJSON).
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

    /// The row's raw-layer text: a row holding a personal value is sealed whole, as one JSON string.
    /// A raw row is only ever read whole (shown, searched by `forget`), never joined on, so one seal
    /// per row does what a seal per personal cell did at a fraction of the cost (BENCHMARKS.md,
    /// "privacy vault"); `VaultBox.revealJSON` gives the row back as the loader read it.
    func rawText(_ row: borrowing SourceRow, quotedKeys: [[UInt8]]) -> String {
        personal(row) ? wholeLine(row.rawText) : row.rawText
    }

    /// The row as a JSON object (quarantine's text), sealed whole when it holds a personal value.
    func objectText(_ row: borrowing SourceRow, quotedKeys: [[UInt8]]) -> String {
        let text = row.objectText(quotedKeys: quotedKeys)
        return personal(row) ? wholeLine(text) : text
    }

    /// Whether the row holds a personal value: a non-empty cell of a personal column; any row the
    /// reader could not read as written (its values may sit under the wrong columns).
    private func personal(_ row: borrowing SourceRow) -> Bool {
        if row.problem != nil { return true }
        switch row.values {
        case .positional(let fields):
            if !row.rawIsArray { return true }   // a ragged row
            guard hasPositions else { return false }
            for i in fields.indices where i < positions.count && positions[i] && !fields[i].isEmpty { return true }
            return false
        case .keyed(let values):
            return values.contains { !$0.value.isEmpty && policy.kind(source: source, column: $0.key) != nil }
        }
    }

    /// A text sealed whole, as one JSON string.
    private func wholeLine(_ text: String) -> String {
        var out: [UInt8] = []
        JSONText.appendQuotedBytes(vault.seal(text), to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
