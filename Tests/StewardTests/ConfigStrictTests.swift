import Foundation
import Testing
@testable import StewardPipeline
@testable import StewardConfig

/// Config that cannot be right is refused at load, naming file, line and key (exit 2 from every command).
@Suite struct ConfigStrictTests {
    /// ConfigTests' one-source project: lines 1–9; a section appended starts at line 10.
    let base = ConfigTests().base

    func load(_ yml: String) throws -> ProjectConfig { try ConfigTests.load(yml) }

    func error(_ yml: String) -> ConfigError? { ConfigTests().error(yml) }

    /// The error names steward.yml, the line and the key.
    func expectError(_ yml: String, line: Int, key: String, saying text: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        let e = error(yml)
        #expect(e != nil, "accepted: \(yml)", sourceLocation: sourceLocation)
        guard let e else { return }
        #expect(e.file.hasSuffix("steward.yml"), sourceLocation: sourceLocation)
        #expect(e.line == line, "\(e)", sourceLocation: sourceLocation)
        #expect(e.key == key, "\(e)", sourceLocation: sourceLocation)
        #expect(e.message.contains(text), "\(e)", sourceLocation: sourceLocation)
        #expect(e.description.hasPrefix("\(e.file):\(line): \(key): "), sourceLocation: sourceLocation)
    }

    @Test func unknownKeysUnderMatching() {
        expectError(base + "matching:\n  thresold: 0.1\n", line: 11, key: "matching.thresold", saying: "unknown key")
        expectError(base + "matching:\n  threshold: 0.9\n  colour: red\n", line: 12, key: "matching.colour", saying: "threshold")
    }

    @Test func matchingThresholdIsAProbability() {
        for bad in ["5", "-1", "nan", "inf", "1.0001"] {
            expectError(base + "matching:\n  threshold: \(bad)\n", line: 11, key: "matching.threshold", saying: "expected")
        }
        #expect(error(base + "matching:\n  threshold: 0\n") == nil)
        #expect(error(base + "matching:\n  threshold: 1\n") == nil)
    }

    @Test func reviewBandIsOrderedAndWithinZeroOne() {
        expectError(base + "matching:\n  review: [0.9, 0.1]\n", line: 11, key: "matching.review", saying: "low <= high")
        expectError(base + "matching:\n  review: [0.5, 1.5]\n", line: 11, key: "matching.review", saying: "between 0 and 1")
        expectError(base + "matching:\n  review: [nan, 0.5]\n", line: 11, key: "matching.review", saying: "finite")
    }

    @Test func primarySystemMustBeAPersonSourcesSystem() {
        expectError(base + "matching:\n  primary_system: erp\n", line: 11, key: "matching.primary_system", saying: "'erp'")
    }

    @Test func matchingSettingsAreTypedFields() throws {
        let c = try load(base + """
        matching:
          threshold: 0.8
          review: [0.5, 0.8]
          primary_system: crm
          blocking: ["last_name & dob"]
          max_block_size: 40
          group_agreement: 0.75
          u_samples: 1000

        """)
        #expect(c.matching.threshold == 0.8)
        #expect(c.matching.review == (0.5, 0.8))
        #expect(c.matching.primarySystem == "crm")
        #expect(c.matching.blocking == ["last_name & dob"])
        #expect(c.matching.maxBlockSize == 40 && c.matching.groupAgreement == 0.75 && c.matching.uSamples == 1000)
        #expect(c.matching.blockWindow == nil && c.matching.maxClusterSize == nil)
        expectError(base + "matching:\n  u_samples: -3\n", line: 11, key: "matching.u_samples", saying: "positive")
    }

    @Test func rangeMinAboveMax() {
        expectError(base + "    checks:\n      - range: {column: id, min: 10, max: 1}\n",
                    line: 11, key: "sources.a.checks.range.min", saying: "greater than max")
        #expect(error(base + "    checks:\n      - range: {column: id, min: 1, max: 1}\n") == nil)
    }

    @Test func rowCountIsAWholeNumberNotNegative() {
        expectError(base + "    checks:\n      - row_count: {min: -5}\n",
                    line: 11, key: "sources.a.checks.row_count.min", saying: "zero or more")
        expectError(base + "    checks:\n      - row_count: {max: 2.5}\n",
                    line: 11, key: "sources.a.checks.row_count.max", saying: "whole number")
        expectError(base + "    checks:\n      - row_count: {min: 10, max: 2}\n",
                    line: 11, key: "sources.a.checks.row_count.min", saying: "greater than max")
    }

    @Test func keyBindingsAreReadableAndOneKeyOneAction() {
        expectError(base + "keys: {run: ctrl-zz}\n", line: 10, key: "keys.run", saying: "cannot read key 'ctrl-zz'")
        expectError(base + "keys:\n  run: x\n  quit: \"q x\"\n", line: 12, key: "keys.quit", saying: "'x' is also bound to run (line 11)")
        expectError(base + "keys:\n  launch: l\n", line: 11, key: "keys.launch", saying: "unknown action")
        let ok = try? load(base + "keys: {run: ctrl-r, quit: \"q F10\", toggle_task: \" \"}\n")
        #expect(ok?.keys == ["run": "ctrl-r", "quit": "q F10", "toggle_task": " "])
    }

    @Test func kpiTargetAndDueMustParse() {
        expectError(base + "kpis:\n  - name: Revenue\n    target: banana\n", line: 12, key: "kpis.target", saying: "Revenue")
        expectError(base + "kpis:\n  - {name: Speed, target: \"< 3 parsecs\"}\n", line: 11, key: "kpis.target", saying: "unknown unit")
        expectError(base + "kpis:\n  - {name: ROI, target: \"4:1\", due: yesterday}\n", line: 11, key: "kpis.due", saying: "'yesterday' is not a date")
        expectError(base + "kpis:\n  - {name: ROI, target: \"4:1\", due: 2024-02-30}\n", line: 11, key: "kpis.due", saying: "not a date")
        expectError(base + "kpis:\n  - {name: ROI, target: \"4:1\", baseline: lots}\n", line: 11, key: "kpis.baseline", saying: "ROI")
        #expect(error(base + "kpis:\n  - {name: ROI, baseline: \"2:1\", target: \"4:1\", due: Q3 2024}\n  - {name: Uptime, target: 99.9%, due: 2024-02-29}\n") == nil)
    }

    @Test func webhookSchemeIsHTTPOrHTTPS() {
        expectError(base + "alerts:\n  - webhook: httpx://hooks.example.com/x\n", line: 11, key: "alerts.webhook", saying: "http:// or https://")
        expectError(base + "alerts:\n  - webhook: \"https://\"\n", line: 11, key: "alerts.webhook", saying: "with a host")
        #expect(error(base + "alerts:\n  - webhook: HTTPS://hooks.example.com/x\n") == nil)
    }

    @Test func relativePathsStayInsideTheProject() throws {
        expectError(base.replacingOccurrences(of: "path: a.csv", with: "path: ../../etc/*.csv"),
                    line: 7, key: "sources.a.path", saying: "leaves the project folder")
        expectError(base.replacingOccurrences(of: "name: t\n", with: "name: t\ncatalog: data/../../x.sqlite\n"),
                    line: 2, key: "catalog", saying: "leaves the project folder")
        expectError(base.replacingOccurrences(of: "name: t\n", with: "name: t\nroadmap: ../plan.md\n"),
                    line: 2, key: "roadmap", saying: "leaves the project folder")
        // Inside after all, and absolute paths as written.
        #expect(error(base.replacingOccurrences(of: "path: a.csv", with: "path: sub/../a.csv")) == nil)
        let absolute = FileManager.default.temporaryDirectory.appendingPathComponent("steward-abs-\(UUID().uuidString.prefix(8))/c.sqlite").path
        let c = try load(base.replacingOccurrences(of: "name: t\n", with: "name: t\ncatalog: \(absolute)\n"))
        #expect(c.catalogURL.path == absolute)
    }

    @Test func sourceRegionIsACountryCode() {
        expectError(base.replacingOccurrences(of: "    key: id\n", with: "    key: id\n    region: XX\n"),
                    line: 9, key: "sources.a.region", saying: "ISO 3166")
    }

    /// Through the binary: a strictness error is exit 2 from any command, with file:line: key.
    @Test func theBinaryExitsTwoNamingFileLineAndKey() async throws {
        try await offPool {
            let p = TempProject("strict-cli")
            p.write("a.csv", "id,name\n1,x\n")
            p.write("steward.yml", self.base + "matching:\n  thresold: 0.1\n")
            let status = try StewardBinary.run(["status", "--project", p.dir.path])
            #expect(status.status == 2)
            #expect(status.stderr.contains("steward.yml:11: matching.thresold: unknown key"), "\(status.stderr)")
            #expect(!FileManager.default.fileExists(atPath: p.dir.appendingPathComponent(".steward").path))
        }
    }
}
