import Foundation
import GRDB

/// Rows erased by `steward forget`, per source: a loaded row whose record key and text hash match
/// a tombstone is the source sending the same erased data again, and is skipped (neither raw,
/// staged nor quarantined). A changed row of the same record is a new version and loads.
public struct ErasureTombstones: Sendable {
    /// record key ('' for a row that had none) → SHA-256 of the erased row texts.
    private var hashes: [String: Set<String>] = [:]

    public var isEmpty: Bool { hashes.isEmpty }

    public static func load(_ db: Database, source: String) throws -> ErasureTombstones {
        var t = ErasureTombstones()
        for r in try Row.fetchAll(db, sql: "SELECT record_key, row_sha256 FROM erasure_tombstone WHERE source = ?", arguments: [source]) {
            t.hashes[r[0], default: []].insert(r[1])
        }
        return t
    }

    /// Whether this row (its key and one of its raw texts) was erased. Hashes only rows of tombstoned
    /// keys. A row has two texts: its raw-layer text (what `forget` hashed since raw rows became arrays)
    /// and its JSON object (what it hashed before).
    func erased(key: String?, texts: () -> [String]) -> Bool {
        guard let known = hashes[key ?? ""] else { return false }
        return texts().contains { known.contains(Self.hash($0)) }
    }

    /// The tombstone hash of a raw row's text.
    public static func hash(_ raw: String) -> String {
        var h = SHA256()
        h.update(Array(raw.utf8))
        return h.finalize()
    }
}
