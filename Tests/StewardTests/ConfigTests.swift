import Foundation
import Testing
@testable import StewardPipeline

@Suite struct ConfigTests {
    func error(_ yml: String, files: [String: String] = ["a.csv": "id,name\n1,x\n"]) -> ConfigError? {
        let p = TempProject("cfg")
        for (name, text) in files { p.write(name, text) }
        p.write("steward.yml", yml)
        do { _ = try p.config(); return nil } catch let e as ConfigError { return e } catch { Issue.record("\(error)"); return nil }
    }

    let base = """
    name: t
    sources:
      - name: a
        system: crm
        entity: person
        format: csv
        path: a.csv
        key: id
        mapping: {first_name: name}

    """

    @Test func validConfigLoads() throws {
        #expect(error(base) == nil)
    }

    @Test func unknownKeyNamesLineAndKey() {
        let e = error(base.replacingOccurrences(of: "    key: id\n", with: "    key: id\n    colour: blue\n"))
        #expect(e?.line == 9)
        #expect(e?.key == "sources.a.colour")
        #expect(e?.description.contains("steward.yml:9: sources.a.colour: unknown key") == true)
    }

    @Test func mappingToAnAbsentColumn() {
        let e = error(base.replacingOccurrences(of: "first_name: name", with: "first_name: nmae"))
        #expect(e?.line == 9)
        #expect(e?.message.contains("column 'nmae' is not in a.csv") == true)
    }

    @Test func badGlobAndBadRegexAndMissingRoadmap() {
        #expect(error(base.replacingOccurrences(of: "path: a.csv", with: "path: \"[a.csv\""))?.message.contains("unclosed '['") == true)
        let regex = error(base + "    checks:\n      - pattern: {column: name, regex: \"([a-z\"}\n")
        #expect(regex?.key == "sources.a.checks.pattern.regex")
        #expect(regex?.line == 11)
        let roadmap = error(base.replacingOccurrences(of: "name: t\n", with: "name: t\nroadmap: plan.md\n"))
        #expect(roadmap?.key == "roadmap" && roadmap?.line == 2)
    }

    @Test func unknownCheckTypeAndCanonicalField() {
        #expect(error(base + "    checks:\n      - not_empty: [id]\n")?.message.contains("unknown check type") == true)
        #expect(error(base.replacingOccurrences(of: "first_name: name", with: "nickname: name"))?.key == "sources.a.mapping.nickname")
    }

    @Test func relationshipToUnknownSourceAndBadDuration() {
        #expect(error(base + "    checks:\n      - relationship: {column: id, to: nowhere}\n")?.message == "unknown source 'nowhere'")
        #expect(error(base.replacingOccurrences(of: "    key: id\n", with: "    key: id\n    freshness: {warn_after: soon}\n"))?.key == "sources.a.freshness.warn_after")
    }

    @Test func invalidYAMLNamesTheLine() {
        let e = error("name: t\nsources:\n  - name: [unclosed\n")
        #expect(e?.line != nil)
        #expect(e?.message.hasPrefix("invalid YAML") == true)
    }
}
