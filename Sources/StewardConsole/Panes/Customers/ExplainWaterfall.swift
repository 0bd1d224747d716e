import Foundation
import StewardIdentity

/// Why two records match, as a text waterfall: the prior, then each comparison's level and weight
/// moving the running total (a bar from the previous total to the new one, on one scale with a `┊`
/// at zero), then the weight's probability against the threshold. The console's Explain views and
/// `steward explain` both draw it.
public enum ExplainWaterfall {
    /// The lines for `width` columns; record values show masked unless revealed (record A, record B).
    public static func lines(_ e: Explanation, width: Int, revealA: Bool, revealB: Bool, theme: Theme) -> [Line] {
        // The longest level ("same house number, similar street") fits from 110 columns on.
        let fieldW = 11, levelW = width >= 110 ? 34 : 22, numW = 7
        var rest = width - fieldW - levelW - 2 * numW - 4
        // Values only when there is room for them and a bar.
        let valueW = rest >= 36 ? min(22, (rest - 14) / 2) : 0
        if valueW > 0 { rest -= 2 * (valueW + 1) }
        let barW = max(0, rest - 1)
        var totals = [0.0, e.prior]
        var running = e.prior
        for l in e.lines { running += l.weight; totals.append(running) }
        let lo = totals.min()!, hi = totals.max()!
        func pos(_ v: Double) -> Int { hi > lo ? Int(((v - lo) / (hi - lo) * Double(max(0, barW - 1))).rounded()) : 0 }
        func bar(from: Double, to: Double) -> Line {
            guard barW > 0 else { return [] }
            let a = pos(min(from, to)), b = pos(max(from, to)), zero = pos(0)
            var chars = Array(repeating: Character(" "), count: barW)
            if zero < barW { chars[zero] = "┊" }
            // A neutral comparison moves nothing and draws nothing.
            if to != from { for i in a...b where i < barW { chars[i] = to > from ? "█" : "░" } }
            let s = String(chars)
            return [Span(" "), Span(s, to >= from ? theme.ok : theme.error)]
        }
        func cell(_ s: String, _ w: Int, _ style: Style = theme.text, right: Bool = false) -> Span {
            Span(s.padded(to: w, alignment: right ? .right : .left) + " ", style)
        }
        func signed(_ v: Double) -> String { String(format: "%+.2f", v) }
        var header: Line = [cell("field", fieldW, theme.tableHeader)]
        if valueW > 0 { header += [cell("record A", valueW, theme.tableHeader), cell("record B", valueW, theme.tableHeader)] }
        header += [cell("level", levelW, theme.tableHeader), cell("weight", numW, theme.tableHeader, right: true),
                   cell("total", numW, theme.tableHeader, right: true)]
        var lines: [Line] = [header]
        var prior: Line = [cell("prior", fieldW, theme.muted)]
        if valueW > 0 { prior += [cell("", valueW), cell("", valueW)] }
        prior += [cell("λ from EM", levelW, theme.muted), cell(signed(e.prior), numW, right: true), cell(String(format: "%.2f", e.prior), numW, right: true)]
        lines.append(prior + bar(from: 0, to: e.prior))
        running = e.prior
        for l in e.lines {
            let before = running
            running += l.weight
            let level = l.termFrequency != 0 ? l.level + String(format: " tf%+.1f", l.termFrequency) : l.level
            var line: Line = [cell(l.field, fieldW, theme.title)]
            if valueW > 0 { line += [cell(revealA ? l.a : l.maskedA, valueW), cell(revealB ? l.b : l.maskedB, valueW)] }
            line += [cell(level, levelW, l.weight > 0 ? theme.text : theme.muted),
                     cell(signed(l.weight), numW, l.weight > 0 ? theme.ok : l.weight < 0 ? theme.error : theme.muted, right: true),
                     cell(String(format: "%.2f", running), numW, right: true)]
            lines.append(line + bar(from: before, to: running))
        }
        let match = e.probability >= e.threshold
        lines.append([Span("= match weight ", theme.muted), Span(String(format: "%.2f", e.weight), theme.title), Span(" → probability ", theme.muted),
                      Span(String(format: "%.4f", e.probability), theme.title), Span(String(format: " (threshold %.2f): ", e.threshold), theme.muted),
                      match ? Span("✓ match", theme.ok) : Span("✗ no match", theme.error)]
                     + (e.swappedNames ? [Span("  first/last names compared swapped", theme.muted)] : []))
        var now: Line = [Span("  now: ", theme.muted),
                         Span(e.sameCustomer ? "same customer \(e.customers.0 ?? "")" : "customers \(e.customers.0 ?? "–") and \(e.customers.1 ?? "–")")]
        if let d = e.decision { now += [Span("   steward decision: ", theme.muted), Span(d, d == "accept" ? theme.ok : theme.error)] }
        lines.append(now)
        return lines
    }
}
