import Foundation
import StewardRoadmap
import StewardConfig

/// KPI definitions from the roadmap's metric tables (tables with a Metric and a Target column, read by
/// `StewardRoadmap`); the due date is the row's Timeline (`Q2 2024` → 2024-06-30) or a date there.
public enum RoadmapKPIs {
    public static func load(config: ProjectConfig) -> [KPIDefinition] {
        guard let url = config.roadmap, let doc = try? RoadmapDocument(contentsOf: url) else { return [] }
        return definitions(doc)
    }

    public static func parse(_ markdown: String) -> [KPIDefinition] { definitions(RoadmapDocument(text: markdown)) }

    static func definitions(_ doc: RoadmapDocument) -> [KPIDefinition] {
        doc.metricTables.map { row in
            KPIDefinition(name: row.metric, target: row.target, baseline: row.baseline,
                          due: row.due?.description ?? row.timeline, origin: .roadmap)
        }
    }
}
