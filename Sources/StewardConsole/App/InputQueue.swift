import Foundation

extension AppState {
    /// The view is waiting for the data its next keys act on: the first snapshot, a source, check or KPI
    /// just opened, a customer's 360 asked for. Keys typed meanwhile are held (see `KeyQueue`), so
    /// `Enter → → j j` typed fast lands where it lands when typed slowly.
    public var awaitingData: Bool {
        // Typing into a line, help and questions never need data.
        guard mode == .normal else { return false }
        if catalogError != nil && snapshot == nil { return false }
        guard snapshot != nil else { return true }
        // Each pane knows what its open views wait for (a source, a check, a KPI, a 360, a write).
        return panes.states.contains { $0.awaitingData(self) }
    }
}

/// Keys held while the view awaits data, applied in order once it arrives. A load that never answers
/// does not keep them forever: after `patience` they are applied to the view as it is (a read that
/// fails sets the catalog error, which ends the wait at once).
struct KeyQueue {
    var held: [Key] = []
    var since: Date?
    /// Long enough for a slow read on a loaded machine; a failed read releases the keys at once anyway.
    var patience: TimeInterval = 10

    var isEmpty: Bool { held.isEmpty }

    mutating func hold(_ key: Key, now: Date) {
        if held.isEmpty { since = now }
        held.append(key)
    }

    /// The held keys, emptied.
    mutating func take() -> [Key] {
        defer { held = []; since = nil }
        return held
    }

    func expired(now: Date) -> Bool { since.map { now.timeIntervalSince($0) >= patience } ?? false }

    /// Ctrl-C is never held: the way out works whatever the view waits for.
    static func bypasses(_ key: Key) -> Bool { key == .ctrl("c") }
}
