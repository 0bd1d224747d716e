import Foundation
import Testing
@testable import StewardPipeline
@testable import StewardConfig

@Suite struct ConfigTests {
    /// Loads `yml` as the steward.yml of a fresh project holding `files`.
    static func load(_ yml: String, files: [String: String] = ["a.csv": "id,name\n1,x\n"]) throws -> ProjectConfig {
        let p = TempProject("cfg")
        for (name, text) in files { p.write(name, text) }
        p.write("steward.yml", yml)
        return try p.config()
    }

    func error(_ yml: String, files: [String: String] = ["a.csv": "id,name\n1,x\n"]) -> ConfigError? {
        do { _ = try Self.load(yml, files: files); return nil } catch let e as ConfigError { return e } catch { Issue.record("\(error)"); return nil }
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

    /// Columns are the source's business when it loads (its step fails with a schema reason), not the
    /// config's: loading never opens source files, so one changed export cannot stop every command.
    @Test func aMappedColumnAbsentFromTheFilesIsNotAConfigError() throws {
        #expect(error(base.replacingOccurrences(of: "first_name: name", with: "first_name: nmae")) == nil)
        #expect(error(base + "    checks:\n      - not_null: [emial]\n") == nil)
        // Not even a file: the config is still valid (the run reports the missing file).
        #expect(error(base, files: [:]) == nil)
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
