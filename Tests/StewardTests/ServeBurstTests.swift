import Foundation
import Testing
@testable import StewardServer

/// A burst of requests for one uncached body (issue 19): it is built once, and every request that
/// asked for it while it was built gets that body, or the error it failed with.
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
}
