import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardServer

/// The console's header shows `steward serve` running in another process: the server's record
/// beside the catalog (`ServePresence`), believed only while its process runs and beats.
@Suite struct ServePresenceTests {
    @Test func aRecordIsBelievedOnlyWhileItsProcessRunsAndBeats() throws {
        let dir = TempProject("presence").dir
        try PrivateFiles.createFolder(dir)
        let catalogURL = dir.appendingPathComponent("catalog.sqlite")
        #expect(ServePresence.current(catalogURL: catalogURL) == nil, "no record: not serving")

        let now = Date()
        let live = ServePresence(address: "http://127.0.0.1:8750", pid: getpid(), startedAt: now.addingTimeInterval(-30),
                                 updatedAt: now, requestsLastMinute: 42)
        try live.write(catalogURL: catalogURL)
        let read = try #require(ServePresence.current(catalogURL: catalogURL, now: now))
        #expect(read.address == live.address && read.pid == live.pid && read.requestsLastMinute == 42)
        #expect(abs(read.updatedAt.timeIntervalSince(now)) < 0.01)
        #expect(read.shortAddress == "127.0.0.1:8750")
        // Private like every file beside the catalog.
        let attributes = try FileManager.default.attributesOfItem(atPath: ServePresence.url(catalogURL: catalogURL).path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        // Beats stop (a hung server): stale once the last is older than `staleAfter`.
        #expect(ServePresence.current(catalogURL: catalogURL, now: now.addingTimeInterval(ServePresence.staleAfter + 1)) == nil)

        // The process is gone (SIGKILL leaves the file behind): not serving, however fresh the beat.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        var dead = live
        dead.pid = gone.processIdentifier
        try dead.write(catalogURL: catalogURL)
        #expect(ServePresence.read(catalogURL: catalogURL)?.pid == gone.processIdentifier)
        #expect(ServePresence.current(catalogURL: catalogURL, now: now) == nil)

        // Only the server that wrote the record removes it.
        ServePresence.remove(catalogURL: catalogURL, pid: getpid())
        #expect(ServePresence.read(catalogURL: catalogURL) != nil)
        ServePresence.remove(catalogURL: catalogURL, pid: gone.processIdentifier)
        #expect(ServePresence.read(catalogURL: catalogURL) == nil)
    }

    @Test func requestsAreCountedOverTheLastMinute() {
        let rate = RequestRate()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        for i in 0..<30 { rate.note(at: t0.addingTimeInterval(Double(i))) }   // one a second for 30 s
        rate.note(at: t0.addingTimeInterval(29.5))
        #expect(rate.lastMinute(at: t0.addingTimeInterval(29.9)) == 31)
        #expect(rate.lastMinute(at: t0.addingTimeInterval(59.9)) == 31)
        // A minute on, the first seconds have left the window; a bucket reused later starts again from 0.
        #expect(rate.lastMinute(at: t0.addingTimeInterval(70)) == 20)   // seconds 11-29, and the half
        rate.note(at: t0.addingTimeInterval(70))
        #expect(rate.lastMinute(at: t0.addingTimeInterval(70)) == 21)
        #expect(rate.lastMinute(at: t0.addingTimeInterval(200)) == 0)
    }

    @MainActor @Test func theHeaderShowsTheServerAndWhatItAnswered() {
        typealias F = ConsoleFixtures
        var state = F.state()
        #expect(!F.screen(state).lines[0].contains("API"))
        state.snapshot?.server = ServePresence(address: "http://127.0.0.1:8750", pid: 1, startedAt: F.now, updatedAt: F.now,
                                               requestsLastMinute: 12_345)
        let header = F.screen(state).lines[0]
        #expect(header.contains("⇄ API 127.0.0.1:8750 · 12.3k req/min"))
        #expect(header.hasPrefix(" ◆ steward demo  ? UNKNOWN "), "the verdict still comes first")
        #expect(header.hasSuffix(Format.clock(F.now)))
        #expect(!header.contains("last run"), "the API outranks the last run when both do not fit")
        // TLS shows its scheme.
        state.snapshot?.server?.address = "https://10.0.0.5:8750"
        #expect(F.screen(state).lines[0].contains("⇄ API https://10.0.0.5:8750"))
        // Narrow: the last run goes first, the API line next; the verdict stays.
        let narrow = F.screen({ var s = state; s.width = 80; s.height = 24; return s }())
        #expect(narrow.lines[0].hasPrefix(" ◆ steward demo  ? UNKNOWN "))
        #expect(!narrow.lines[0].contains("last run"))
        #expect(narrow.lines.allSatisfy { $0.displayWidth <= 80 })
    }
}

/// A real server on a catalog and the console's own snapshot read of that catalog (as a console in
/// another process does it: `SnapshotSource` opens the catalog read-only).
extension ServeTests {
    @Suite("Presence") struct Presence {
        @Test func theConsolesSnapshotSeesARunningServerAndItsRequests() async throws {
            let demo = try await IntakeDemo.shared.value
            var options = try ServerOptions(listen: "127.0.0.1:0")
            options.presenceInterval = 0.2
            let server = try await RunningServer.start(demo, options: options)
            let write = try demo.token(.write)
            let console = SnapshotSource(url: demo.config.catalogURL)

            let tag = UUID().uuidString.prefix(8).lowercased()
            for i in 0..<5 {
                let event = #"{"order_id": "p-\#(tag)-\#(i)", "email": "p.\#(tag)@example.org", "at": "2026-12-01T10:00:00Z", "total": "5.00"}"#
                #expect(try await server.post("/v1/events/shop_orders", token: write.token, body: event).status == 200)
            }
            var snapshot = try await console.load(SnapshotRequest())
            for _ in 0..<50 where (snapshot.server?.requestsLastMinute ?? 0) < 5 {
                try await Task.sleep(for: .milliseconds(100))
                snapshot = try await console.load(SnapshotRequest())
            }
            let presence = try #require(snapshot.server)
            #expect(presence.address == "http://127.0.0.1:\(server.port)")
            #expect(presence.pid == getpid())
            #expect(presence.requestsLastMinute >= 5)
            // Pushed batches are in the same snapshot's runs, as the Runs pane lists file batches.
            #expect(snapshot.runs.first?.trigger == "http")
            #expect(snapshot.runs.first?.steps.first?.source == "shop_orders")
            // And the header drawn from this snapshot names the server.
            let header = await MainActor.run { () -> String in
                var state = AppState(projectName: demo.config.name, catalogPath: demo.config.catalogURL.path, width: 140, height: 30, now: Date())
                state.snapshot = snapshot
                return ConsoleFixtures.screen(state).lines[0]
            }
            #expect(header.contains("⇄ API 127.0.0.1:\(server.port) · "))

            await server.stop()
            #expect(try await console.load(SnapshotRequest()).server == nil, "a stopped server removes its record")
        }
    }
}

/// Bodies reused while the catalog stays the same (`ResponseCache`).
@Suite struct ServeResponseCacheTests {
    @Test func aBodyIsReusedUntilACommitOrItsAge() {
        let cache = ResponseCache(maxEntries: 2, maxBytes: 100)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        cache.store(Data("a".utf8), "/v1/customers?q=ann#", counter: 3, maxAge: nil, now: t0)
        #expect(cache.body("/v1/customers?q=ann#", counter: 3, now: t0.addingTimeInterval(3600)) == Data("a".utf8))
        #expect(cache.body("/v1/customers?q=bob#", counter: 3) == nil)
        // A commit: the counter moved, nothing older is served, and the first new body empties the cache.
        #expect(cache.body("/v1/customers?q=ann#", counter: 4) == nil)
        cache.store(Data("b".utf8), "/v1/customers?q=bob#", counter: 4, maxAge: nil, now: t0)
        #expect(cache.count == 1)
        // A body built for an older catalog than the cache holds is not kept.
        cache.store(Data("old".utf8), "/v1/customers?q=ann#", counter: 3, maxAge: nil, now: t0)
        #expect(cache.body("/v1/customers?q=ann#", counter: 3) == nil && cache.count == 1)
        // A body that moves with the clock lives `maxAge` seconds.
        cache.store(Data("s".utf8), "/v1/sources?#", counter: 4, maxAge: 5, now: t0)
        #expect(cache.body("/v1/sources?#", counter: 4, now: t0.addingTimeInterval(4)) != nil)
        #expect(cache.body("/v1/sources?#", counter: 4, now: t0.addingTimeInterval(6)) == nil)
        // Full (entries or bytes): starts over.
        cache.store(Data("c".utf8), "/v1/customers?q=cy#", counter: 4, maxAge: nil, now: t0)
        #expect(cache.count == 1)
        cache.store(Data(repeating: 0, count: 101), "/big", counter: 4, maxAge: nil, now: t0)
        #expect(cache.body("/big", counter: 4) == nil)
    }
}

extension ServeTests {
    @Suite("Response cache") struct ResponseCacheServed {
        @Test func aRepeatedSearchIsServedFromTheCacheUntilTheCatalogChanges() async throws {
            let demo = try await ServeDemo.shared.value
            let server = try await RunningServer.start(demo)
            defer { Task { await server.stop() } }
            let read = try demo.token(.read)
            let first = try await server.get("/v1/customers?q=smith&limit=5", token: read.token)
            #expect(first.status == 200 && server.server.bodies.count == 1)
            let again = try await server.get("/v1/customers?limit=5&q=smith", token: read.token)
            #expect(again.body == first.body && again.header("ETag") == first.header("ETag"))
            #expect(server.server.bodies.count == 1, "the same query in another order is the same entry")
            // A commit (a token made): the next answer is built again, under a new ETag.
            _ = try demo.token(.read)
            let after = try await server.get("/v1/customers?q=smith&limit=5", token: read.token)
            #expect(after.header("ETag") != first.header("ETag"))
            #expect(sameJSON(after.json, first.json))
        }
    }
}

extension ServeTests {
    /// A pushed batch leaves the source's staged and flagged counts to a recount within a second
    /// (each is a scan of the whole source); a stopping server recounts before it returns.
    @Suite("Pushed counts") struct PushedCounts {
        @Test func stagedCountsFollowPushesWithinASecondAndAtShutdown() async throws {
            let demo = try await IntakeDemo.shared.value
            let server = try await RunningServer.start(demo)
            let write = try demo.token(.write)
            func recorded() throws -> Int { try demo.count("SELECT rows_staged FROM source_stats WHERE source = 'shop_orders'") }
            func staged() throws -> Int { try demo.count("SELECT COUNT(*) FROM staged_activity WHERE source = 'shop_orders' AND is_deleted = 0") }
            let tag = UUID().uuidString.prefix(8).lowercased()
            let body = (0..<20).map { #"{"order_id": "n-\#(tag)-\#($0)", "email": "n@example.org", "at": "2026-12-01T10:00:00Z", "total": "1"}"# }
                .joined(separator: "\n")
            #expect(try await server.post("/v1/events/shop_orders", token: write.token, body: body).status == 200)
            var caughtUp = false
            for _ in 0..<40 where !caughtUp {
                try await Task.sleep(for: .milliseconds(100))
                caughtUp = try recorded() == staged()
            }
            #expect(caughtUp, "the recount follows a push within a few seconds")
            // A push right before the stop: counted before `run` returns.
            let more = (0..<5).map { #"{"order_id": "m-\#(tag)-\#($0)", "email": "m@example.org", "at": "2026-12-01T10:00:00Z", "total": "1"}"# }
                .joined(separator: "\n")
            #expect(try await server.post("/v1/events/shop_orders", token: write.token, body: more).status == 200)
            await server.stop()
            #expect(try recorded() == staged())
        }
    }
}
