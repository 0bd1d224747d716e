import Foundation
import StewardPipeline

/// KPI definitions from the roadmap's metric tables: any markdown table whose header has a `Metric`
/// and a `Target` column (optionally `Baseline`, and `Timeline` or `Due` for the due date).
public enum RoadmapKPIs {
    public static func load(config: ProjectConfig) -> [KPIDefinition] {
        guard let url = config.roadmap, let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return parse(text)
    }

    public static func parse(_ markdown: String) -> [KPIDefinition] {
        var result: [KPIDefinition] = []
        var columns: [String: Int]?
        var inFence = false
        for raw in markdown.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = raw.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.hasPrefix("```") || line.hasPrefix("~~~") { inFence.toggle(); continue }
            guard !inFence, line.hasPrefix("|") else { columns = nil; continue }
            let cells = Self.cells(line)
            if cells.allSatisfy({ $0.allSatisfy { "-:| ".contains($0) } }) { continue }
            guard let cols = columns else {
                var map: [String: Int] = [:]
                for (i, c) in cells.enumerated() { map[c.lowercased()] = i }
                if map["metric"] != nil && map["target"] != nil { columns = map } else { columns = [:] }
                continue
            }
            guard let m = cols["metric"], let t = cols["target"], m < cells.count, t < cells.count else { continue }
            func cell(_ key: String) -> String? {
                guard let i = cols[key], i < cells.count, !cells[i].isEmpty else { return nil }
                return cells[i]
            }
            let name = strip(cells[m]), target = strip(cells[t])
            guard !name.isEmpty, !target.isEmpty else { continue }
            result.append(KPIDefinition(name: name, target: target, baseline: cell("baseline").map(strip),
                                        due: (cell("timeline") ?? cell("due") ?? cell("deadline")).map(strip), origin: .roadmap))
        }
        return result
    }

    private static func cells(_ line: String) -> [String] {
        var body = Substring(line)
        if body.hasPrefix("|") { body = body.dropFirst() }
        if body.hasSuffix("|") { body = body.dropLast() }
        return body.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Markdown emphasis and code marks around a cell's text.
    private static func strip(_ text: String) -> String {
        text.trimmingCharacters(in: CharacterSet(charactersIn: "*_` ")).trimmingCharacters(in: .whitespaces)
    }
}
