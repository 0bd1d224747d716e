import StewardCatalog
import StewardConfig

/// The console shows a stored source value only through the project's PII policy (steward.yml's
/// mappings and `pii:` lists, carried by every snapshot): column by column, never by guessing at text.
/// Without a project's policy (`PIIPolicy()`), every value is masked.
extension PIIPolicy {
    /// A quarantined row's raw values on one line, `column=value, …`, masked per column; a row the
    /// reader could not read as written has all its values masked (they may sit under the wrong column),
    /// and text that is not a row of columns is not shown at all.
    func line(of row: QuarantinedRow) -> String {
        displayRawLine(row.raw, source: row.source, readable: !row.checks.contains(CheckConfig.readable.name), reveal: false)
    }
}

extension QuarantinedRow {
    /// Its reasons as shown: a value an older version quoted in one is masked.
    var shownReasons: [String] { PIIPolicy.displayReasons(reasons, raw: raw, reveal: false) }
}

extension PaneContext {
    /// The policy of the project the snapshot was read for.
    var pii: PIIPolicy { snapshot?.pii ?? PIIPolicy() }
}
