/// How much of a split one part takes.
public enum Constraint: Hashable, Sendable {
    /// Exactly this many cells (less if the space runs out).
    case fixed(Int)
    /// This share of the whole, in percent.
    case percentage(Int)
    /// At least this many cells; grows to fill leftover space shared with other `.fill`s by weight.
    case fill(Int = 1)
    /// At least `min` cells, then share leftover space like `.fill(1)`.
    case min(Int)
}

/// Splits rectangles into rows or columns by constraints, like ratatui's `Layout`.
///
/// ```swift
/// let [header, body, footer] = Layout.rows(area, [.fixed(1), .fill(), .fixed(1)])
/// ```
public enum Layout {
    public static func rows(_ area: Rect, _ constraints: [Constraint], spacing: Int = 0) -> [Rect] {
        sizes(total: area.height, constraints, spacing: spacing).map { Rect(x: area.x, y: area.y + $0.offset, width: area.width, height: $0.size) }
    }

    public static func columns(_ area: Rect, _ constraints: [Constraint], spacing: Int = 0) -> [Rect] {
        sizes(total: area.width, constraints, spacing: spacing).map { Rect(x: area.x + $0.offset, y: area.y, width: $0.size, height: area.height) }
    }

    /// A rectangle of the given size centred in `area` (clipped to it).
    public static func centered(_ area: Rect, width: Int, height: Int) -> Rect {
        let w = Swift.min(width, area.width), h = Swift.min(height, area.height)
        return Rect(x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h)
    }

    static func sizes(total: Int, _ constraints: [Constraint], spacing: Int) -> [(offset: Int, size: Int)] {
        guard !constraints.isEmpty else { return [] }
        let available = Swift.max(0, total - spacing * (constraints.count - 1))
        var sizes = constraints.map { c -> Int in
            switch c {
            case .fixed(let n): return Swift.max(0, n)
            case .percentage(let p): return available * Swift.max(0, p) / 100
            case .fill: return 0
            case .min(let n): return Swift.max(0, n)
            }
        }
        // Fixed parts take their space first; when they overflow, later parts shrink.
        var used = sizes.reduce(0, +)
        var i = sizes.count - 1
        while used > available, i >= 0 {
            let cut = Swift.min(sizes[i], used - available)
            sizes[i] -= cut; used -= cut; i -= 1
        }
        let weights = constraints.map { c -> Int in
            switch c { case .fill(let w): return Swift.max(1, w); case .min: return 1; default: return 0 }
        }
        let totalWeight = weights.reduce(0, +)
        var leftover = available - used
        if totalWeight > 0, leftover > 0 {
            let share = leftover
            var given = 0
            for (j, w) in weights.enumerated() where w > 0 {
                let extra = share * w / totalWeight
                sizes[j] += extra; given += extra
            }
            leftover -= given
            // Rounding leftovers go to the last growable part so the split always covers the area.
            if leftover > 0, let last = weights.lastIndex(where: { $0 > 0 }) { sizes[last] += leftover }
        }
        var offset = 0
        return sizes.map { size in
            defer { offset += size + spacing }
            return (offset, size)
        }
    }
}
