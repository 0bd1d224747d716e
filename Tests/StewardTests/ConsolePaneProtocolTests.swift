import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardRoadmap

/// The panes as one protocol: the registry gives tabs, number keys, help and footer keys; a pane's
/// own query is read with the snapshot; roadmap writes run off the main actor and the next key waits.
@MainActor
@Suite("Console panes as one protocol")
struct ConsolePaneProtocolTests {
    @Test func theRegistryGivesTabsNumbersAndKeys() {
        #expect(PaneID.allCases.map(\.title) == ["Sources", "Quality", "Runs", "SLA/KPI", "Roadmap", "Customers", "Audiences"])
        #expect(PaneID.allCases.map(\.rawValue) == Array(0..<PaneRegistry.all.count))
        #expect(PaneID(rawValue: PaneRegistry.all.count) == nil)
        #expect(PaneID.roadmap == PaneID(RoadmapPane.self) && PaneID.customers.rawValue == 5)
        // A pane's own keys come from the pane: Space ticks only in the Roadmap pane, `/` searches in Customers.
        let keys = KeyMap.standard
        #expect(keys.action(for: .char(" "), in: .roadmap) == .toggleTask)
        #expect(keys.action(for: .char(" "), in: .sources) == nil)
        #expect(keys.action(for: .char("/"), in: .customers) == .search)
        #expect(keys.action(for: .char("/"), in: .quality) == .filter)
        #expect(keys.action(for: .char("s"), in: .runs) == .sort && keys.action(for: .char("s"), in: .sla) == nil)
        // `7` goes to the last pane, `8` (no pane yet) does nothing.
        var s = ConsoleFixtures.state()
        _ = ConsoleApp.update(&s, .key(.char("7")))
        #expect(s.pane == .audiences)
        _ = ConsoleApp.update(&s, .key(.char("8")))
        #expect(s.pane == .audiences)
    }

    @Test func paneStatesCompareByValue() {
        var a = PaneStates(), b = PaneStates()
        #expect(a == b)
        a[SLAPane.self].filter = "uptime"
        #expect(a != b)
        b[SLAPane.self].filter = "uptime"
        #expect(a == b)
        // The app's state compares its panes too (synthesised Equatable).
        var s = ConsoleFixtures.state(), t = s
        t.runs.focus = .audit
        #expect(s != t)
        s.runs.focus = .audit
        #expect(s == t)
    }

    @Test func aPanesOwnQueryIsReadWithTheSnapshot() throws {
        let p = TempProject("pane-query")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent("catalog.sqlite"))
        var request = SnapshotRequest()
        request.panes[.runs] = PaneQuery(key: "run count") { catalog in PaneData(try catalog.runs(limit: 10).count + 41) }
        // The same key is the same request: an unchanged query does not read a new snapshot.
        var same = SnapshotRequest()
        same.panes[.runs] = PaneQuery(key: "run count") { _ in PaneData(0) }
        #expect(request == same)
        let snapshot = try SnapshotSource.load(from: catalog, request)
        #expect(snapshot.paneData(Int.self, for: .runs) == 41)
        #expect(snapshot.paneData(String.self, for: .runs) == nil && snapshot.paneData(Int.self, for: .sla) == nil)
    }

    @Test func aSecondSpaceWaitsForTheFirstWrite() async throws {
        let p = TempProject("pane-write")
        let roadmap = p.write("roadmap.md", RoadmapPlans.demo)
        let catalogURL = p.dir.appendingPathComponent("catalog.sqlite")
        _ = try Catalog.open(at: catalogURL)
        var options = ConsoleOptions(projectName: "demo")
        options.roadmap = roadmap
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: options, catalogURL: catalogURL, runner: nil, environment: [:])
        session.send(.tick(Date()), backend: backend)
        await session.waitForMessages(timeout: 300, backend: backend)
        session.send(.key(.char("5")), backend: backend)
        let target = try #require(session.state.roadmap.rows(session.state.context).firstIndex { r in
            if case .task(let t) = r { return session.state.snapshot!.roadmap!.document.tasks[t].text == "Implement SCD Type 2" }
            return false
        })
        session.sendKeys(Array(repeating: .down, count: target), backend: backend)
        // Two Spaces typed at once: tick, then untick, each written in order (never two ticks).
        session.sendKeys([.char(" "), .char(" ")], backend: backend)
        #expect(session.state.roadmap.writing)
        #expect(session.keyQueue.held == [.char(" ")])
        await session.waitForMessages(timeout: 300, backend: backend)
        #expect(try Data(contentsOf: roadmap) == Data(RoadmapPlans.demo.utf8))
        #expect(try Catalog.open(at: catalogURL).roadmapChanges().map(\.done) == [true, false])
        #expect(session.state.status?.text.hasPrefix("unticked “Implement SCD Type 2”") == true)
    }
}
