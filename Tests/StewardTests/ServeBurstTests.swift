import Foundation
import Testing
@testable import StewardServer
@testable import StewardCatalog

/// The server under bursts (issue 19): a body asked for many times while it is built is built once,
/// and every request that asked gets that body or the error it failed with; background work paced
/// to a share of a core (the recount of pushed sources) rests in proportion to its duration.
@Suite struct ServeBurstTests {
    /// Counts how often a body is built and holds each build until released.
    final class Builds: @unchecked Sendable {
        private let lock = NSLock()
        private var started: [String] = []
        let gate = DispatchSemaphore(value: 0)
        func start(_ name: String) { lock.withLock { started.append(name) } }
        var order: [String] { lock.withLock { started } }
    }

    @Test func requestsForABodyBeingBuiltWaitForItAndGetTheSameResult() async throws {
        let building = InFlight<Data>()
        let builds = Builds()
        func request() async throws -> Data {
            if let shared = try await building.join("q@1") { return shared }
            let built: Result<Data, Error>
            do {
                built = .success(try await blocking { builds.start("q"); builds.gate.wait(); return Data("body".utf8) })
            } catch { built = .failure(error) }
            building.finish("q@1", built)
            return try built.get()
        }
        let answers = Task { try await withThrowingTaskGroup(of: Data.self) { group in
            for _ in 0..<8 { group.addTask { try await request() } }
            return try await group.reduce(into: []) { $0.append($1) }
        } }
        // The first request builds; the other seven wait on it.
        let deadline = Date().addingTimeInterval(10)
        while builds.order.isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(building.count == 1)
        builds.gate.signal()
        let bodies = try await answers.value
        #expect(bodies.count == 8 && bodies.allSatisfy { $0 == Data("body".utf8) })
        #expect(builds.order == ["q"], "built once for eight requests")
        #expect(building.count == 0)
        // Finished: the next request for the key builds again (the cache, not InFlight, keeps bodies).
        #expect(try await building.join("q@1") == nil)
        building.finish("q@1", .success(Data()))
    }

    @Test func aFailedBuildFailsItsWaitersWithTheSameError() async throws {
        struct NotFound: Error, Equatable {}
        let building = InFlight<Data>()
        #expect(try await building.join("k") == nil)
        let waiter = Task { try await building.join("k") }
        let deadline = Date().addingTimeInterval(10)
        while building.waiterCount("k") == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        building.finish("k", .failure(NotFound()))
        await #expect(throws: NotFound.self) { try await waiter.value }
    }

    /// Work paced to a share of a core starts again only after a rest in proportion to how long it took.
    /// Waits on semaphores, not on tasks: the whole suite runs beside it and may hold the task pool.
    @Test func pacedWorkRestsInProportionToItsDuration() throws {
        final class Runs: @unchecked Sendable {
            let lock = NSLock()
            var times: [(start: Double, end: Double)] = []
            let done = DispatchSemaphore(value: 0)
        }
        let runs = Runs()
        let scheduler = MatchScheduler(delay: .milliseconds(5), share: 0.25) { _, _ in
            let start = ProcessInfo.processInfo.systemUptime
            usleep(60_000)
            runs.lock.withLock { runs.times.append((start, ProcessInfo.processInfo.systemUptime)) }
            runs.done.signal()
        }
        scheduler.schedule([("s", "")], runId: 1)
        try #require(runs.done.wait(timeout: .now() + 120) == .success)
        // Asked again at once: without pacing it would start after its 5 ms delay.
        scheduler.schedule([("s", "")], runId: 2)
        try #require(runs.done.wait(timeout: .now() + 120) == .success)
        let t = runs.lock.withLock { runs.times }
        try #require(t.count == 2)
        // 60 ms of work at a quarter of a core: 180 ms of rest at least.
        let rest = t[1].start - t[0].end
        #expect(rest >= 0.17, "paced: rested \(rest) s")
    }

    /// Tokens are read from the catalog once per catalog version: a cached response needs no reader.
    @Test func tokensAreRememberedWhileTheCatalogStaysTheSame() throws {
        let p = TempProject("token-cache")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent("c.sqlite"))
        let secret = try catalog.createAPIToken(name: "reader", scope: .read, expiresAt: Date().addingTimeInterval(3600), actor: "test")
        let cache = APITokenCache()
        #expect(try cache.authenticate(catalog, token: secret, counter: 1)?.name == "reader")
        // Gone from the catalog behind the counter's back: still remembered for counter 1…
        try catalog.pool.write { try $0.execute(sql: "DELETE FROM api_token WHERE name = 'reader'") }
        #expect(try cache.authenticate(catalog, token: secret, counter: 1)?.name == "reader")
        // …and read again once the counter moves (a commit, as the delete was).
        #expect(try cache.authenticate(catalog, token: secret, counter: 2) == nil)
        // Expiry is judged at each use, remembered or not.
        let later = try catalog.createAPIToken(name: "brief", scope: .read, expiresAt: Date().addingTimeInterval(60), actor: "test")
        #expect(try cache.authenticate(catalog, token: later, counter: 3)?.name == "brief")
        #expect(try cache.authenticate(catalog, token: later, counter: 3, now: Date().addingTimeInterval(120)) == nil)
        // Not a token at all: never read.
        #expect(try cache.authenticate(catalog, token: "Bearer nothing", counter: 3) == nil)
    }
}
