import Foundation
import GRDB
import Testing
@testable import StewardCatalog

/// Issue 16, item 6: a webhook that answers with a redirect has not taken the alert. Steward never
/// follows it (the payload must not reach another origin), records a failed delivery and retries at
/// the next evaluation.
@Suite(.serialized) struct WebhookRedirectTests {
    static func redirect(_ code: Int, to url: String) -> String {
        "HTTP/1.1 \(code) Moved\r\nLocation: \(url)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    }

    @Test func aRedirectIsAFailedDeliveryNeverFollowedAndRetried() async throws {
        let receiver = try WebhookListener(), elsewhere = try WebhookListener()
        defer { receiver.stop(); elsewhere.stop() }
        try await offPool {
            let p = kpiProject(webhook: receiver.url)
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "3:1", "--project", dir]).status == 0)
            func alertState() throws -> (status: String?, error: String?, delivered: Int, failed: Int) {
                try p.catalog().pool.read { db in
                    let row = try Row.fetchOne(db, sql: "SELECT status, last_error FROM alert_state")
                    return (row?["status"], row?["last_error"],
                            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'alert'") ?? 0,
                            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'alert_failed'") ?? 0)
                }
            }
            // 302 (which turns a POST into a GET) and 307 (which would re-send the body elsewhere).
            for (attempt, code) in [302, 307].enumerated() {
                receiver.answer(Self.redirect(code, to: elsewhere.url))
                let check = try StewardBinary.run(["check", "--project", dir])
                #expect(check.status == 2)
                #expect(receiver.received.count == attempt + 1)
                #expect(elsewhere.received.isEmpty, "the redirect was followed: \(elsewhere.received)")
                #expect(check.stderr.contains("delivery to \(receiver.url) failed") && check.stderr.contains("HTTP \(code)"), "\(check.stderr)")
                let state = try alertState()
                #expect(state.status == "ok", "a redirect was recorded as delivered")
                #expect(state.error?.contains("HTTP \(code)") == true, "\(state.error ?? "nil")")
                #expect(state.delivered == 0 && state.failed == attempt + 1)
            }
            // The receiver takes it now: the next evaluation delivers the breach it has not heard of.
            receiver.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 2)
            #expect(receiver.received.count == 3)
            let body = try JSONSerialization.jsonObject(with: Data(receiver.received[2].utf8)) as? [String: Any]
            #expect(body?["status"] as? String == "breach")
            #expect(elsewhere.received.isEmpty)
            let state = try alertState()
            #expect(state.status == "breach" && state.error == nil && state.delivered == 1 && state.failed == 2)
            // Delivered: the state holds, nothing is sent again.
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 2)
            #expect(receiver.received.count == 3)
        }
    }

    @Test func aNon2xxAnswerIsAFailedDelivery() async throws {
        let receiver = try WebhookListener()
        defer { receiver.stop() }
        receiver.answer("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        try await offPool {
            let p = kpiProject(webhook: receiver.url)
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "3:1", "--project", dir]).status == 0)
            let check = try StewardBinary.run(["check", "--project", dir])
            #expect(check.stderr.contains("HTTP 404"), "\(check.stderr)")
            #expect(receiver.received.count == 1)
            #expect(try p.scalar("SELECT status FROM alert_state") == "ok")
        }
    }
}
