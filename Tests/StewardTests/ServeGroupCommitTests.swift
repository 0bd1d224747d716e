import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardPipeline
@testable import StewardServer

/// Pushed requests that arrive together are committed together (issue 19, ack latency): each stays
/// its own run and batch, one that fails takes nothing of the others with it, and none is answered
/// before the commit that holds it.
extension ServeTests {
@Suite struct GroupCommit {
    static func events(_ prefix: String, _ n: Int) throws -> PushedEvents {
        try PushedEvents.parse(Data((0..<n).map { #"{"order_id": "\#(prefix)-\#($0)", "email": "g\#($0)@example.org", "at": "2026-12-01T10:00:00Z", "total": "9.5"}"# }
            .joined(separator: "\n").utf8))
    }

    @Test func requestsInOneTransactionAreEachTheirOwnBatchAndAFailureTakesOnlyItself() async throws {
        let demo = try await IntakeDemo.shared.value
        let intake = EventIntake(config: demo.config, catalog: demo.catalog)
        let stamp = UUID().uuidString.prefix(8)
        let pushes = [
            EventIntake.Push(source: "shop_orders", events: try Self.events("ga\(stamp)", 3), requestId: "g1\(stamp)", actor: "token:t"),
            EventIntake.Push(source: "no_such_source", events: try Self.events("gb\(stamp)", 2), requestId: "g2\(stamp)", actor: "token:t"),
            EventIntake.Push(source: "crm_contacts", events: try Self.events("gc\(stamp)", 2), requestId: "g3\(stamp)", actor: "token:t"),
            EventIntake.Push(source: "shop_orders", events: try Self.events("gd\(stamp)", 4), requestId: "g4\(stamp)", actor: "token:t"),
        ]
        let results = intake.load(pushes)
        #expect(results.count == 4)
        let first = try results[0].get(), last = try results[3].get()
        #expect(first.accepted == 3 && last.accepted == 4)
        #expect(first.runId != last.runId && first.batchId != last.batchId)
        #expect(throws: EventIntake.Failure.unknownSource("no_such_source")) { try results[1].get() }
        #expect(throws: EventIntake.Failure.notHTTP(source: "crm_contacts", format: "csv")) { try results[2].get() }
        // Each batch is its own, with its own lineage; the failed requests left nothing.
        #expect(try demo.count("SELECT COUNT(*) FROM staged_activity WHERE source = 'shop_orders' AND record_key LIKE ?", ["ga\(stamp)-%"]) == 3)
        #expect(try demo.count("SELECT COUNT(*) FROM staged_activity WHERE source = 'shop_orders' AND record_key LIKE ?", ["gd\(stamp)-%"]) == 4)
        #expect(try demo.count("SELECT COUNT(*) FROM raw_record WHERE batch_id = ?", [first.batchId]) == 3)
        #expect(try demo.count("SELECT COUNT(*) FROM raw_record WHERE batch_id = ?", [last.batchId]) == 4)
        #expect(try demo.count("SELECT COUNT(*) FROM batch WHERE file LIKE ? OR file LIKE ?", ["http:g2\(stamp)%", "http:g3\(stamp)%"]) == 0)
        #expect(try demo.count("SELECT COUNT(*) FROM run WHERE id IN (?, ?) AND status = 'success'", [first.runId, last.runId]) == 2)
    }

    @Test func concurrentRequestsShareACommitAndAreAnsweredOnlyOnceCommitted() async throws {
        let demo = try await IntakeDemo.shared.value
        let committer = GroupCommitter(intake: EventIntake(config: demo.config, catalog: demo.catalog))
        let stamp = UUID().uuidString.prefix(8)
        let n = 6
        // The catalog's writer is held while the requests arrive: the first one or few wait for it,
        // the others queue behind them and must be written together once it is free.
        let release = DispatchSemaphore(value: 0), holding = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? demo.catalog.pool.writeWithoutTransaction { _ in holding.signal(); release.wait() }
        }
        holding.wait()
        let answers = Task {
            try await withThrowingTaskGroup(of: (Int, EventIntake.Receipt, Int).self) { group in
                for i in 0..<n {
                    group.addTask {
                        let receipt = try await committer.load(EventIntake.Push(
                            source: "shop_orders", events: try Self.events("gg\(stamp)-\(i)", 5), requestId: "gg\(stamp)\(i)", actor: "token:t"))
                        // Answered: the batch is in the catalog for any other connection.
                        let seen = try demo.count("SELECT COUNT(*) FROM staged_activity WHERE batch_id = ?", [receipt.batchId])
                        return (i, receipt, seen)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while committer.waiting < n && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(committer.waiting == n)
        #expect(committer.commits == 0, "nothing is committed while the writer is held")
        release.signal()
        let results = try await answers.value
        #expect(results.count == n)
        #expect(results.allSatisfy { $0.1.accepted == 5 && $0.2 == 5 })
        #expect(Set(results.map(\.1.batchId)).count == n, "each request is its own batch")
        #expect(committer.commits <= 2, "queued requests were committed together (\(committer.commits) commits)")
    }
}
}
