import Foundation
import StewardActivation
import StewardCatalog
import StewardConfig

/// `steward-bench sync --changes N`: a mirror destination brought to N members through a webhook on
/// loopback (N adds), then every member changed (N updates), then nothing changed — each sync timed
/// end to end (plan against the catalog's state, batches stored, POSTed, acknowledged, state folded
/// in). Goal (issue 20): 100,000 changes ≤ 10 s, release build. The receiver checks afterwards that
/// every change arrived exactly once per sync and no batch id was used twice.
func measureSync(changes n: Int, batchSize: Int, in dir: URL) throws -> [String: Any] {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let catalog = try Catalog.open(at: dir.appendingPathComponent("catalog.sqlite"))
    let receiver = try LoopbackReceiver()
    defer { receiver.stop() }
    let destination = DestinationConfig(name: "bench_hook", kind: .webhook, audiences: ["vip"], mode: .mirror,
                                        fields: ["customer_id", "email", "city", "orders"], url: receiver.url, batchSize: batchSize)
    let syncer = DestinationSyncer(catalog: catalog, destination: destination,
                                   delivery: WebhookDestination(url: receiver.url, catalog: catalog))
    let cities = ["Paris", "Berlin", "Austin", "Leeds", "Porto", "Osaka"]
    func members(version: Int) -> [DesiredMember] {
        (0..<n).map { i in
            let id = String(format: "C%08d", i + 1)
            return DesiredMember(audience: "vip", customerId: id, fields: [
                ("customer_id", .text(id)), ("email", .text("j***\(i % 97)@example.com")),
                ("city", .text(cities[(i + version) % cities.count])), ("orders", .number(Double((i + version) % 9))),
            ])
        }
    }
    var result: [String: Any] = ["changes": n, "batch_size": batchSize]
    for (name, desired) in [("adds", members(version: 0)), ("updates", members(version: 1)), ("unchanged", members(version: 1))] {
        let before = receiver.bodies.count
        let started = Date()
        let record = try syncer.sync(desired: desired)
        let seconds = Date().timeIntervalSince(started)
        let bodies = Array(receiver.bodies.dropFirst(before))
        var ops: [String: Int] = [:], ids = Set<Int64>(), customers = Set<String>()
        for body in bodies {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any],
                  let changes = object["changes"] as? [[String: Any]], let id = (object["batch_id"] as? NSNumber)?.int64Value else { continue }
            ids.insert(id)
            for c in changes {
                ops[c["op"] as? String ?? "?", default: 0] += 1
                customers.insert(c["customer_id"] as? String ?? "")
            }
        }
        let received = ops.values.reduce(0, +)
        print("sync \(name): \(String(format: "%.2f", seconds)) s, \(bodies.count) POSTs, \(received) changes received (\(ops)), sent add/update/remove \(record.adds)/\(record.updates)/\(record.removes)")
        result[name] = ["seconds": seconds, "posts": bodies.count, "received_changes": received, "distinct_customers": customers.count,
                        "distinct_batch_ids": ids.count, "status": record.status, "ops": ops,
                        "changes_per_second": seconds > 0 ? Double(received) / seconds : 0] as [String: Any]
    }
    return result
}

/// A minimal HTTP/1.1 receiver on 127.0.0.1 (an ephemeral port): reads each request's body by its
/// Content-Length, keeps it, answers 200. One connection at a time, as the webhook client posts.
final class LoopbackReceiver: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    private let lock = NSLock()
    private var received: [Data] = []
    private var running = true
    var url: String { "http://127.0.0.1:\(port)/sync" }
    var bodies: [Data] { lock.withLock { received } }

    init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socketFD, 16) == 0 else { close(socketFD); throw CocoaError(.fileWriteUnknown) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) } }
        fd = socketFD
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in serve() }
    }

    func stop() {
        lock.withLock { running = false }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func serve() {
        while lock.withLock({ running }) {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            handle(client)
            close(client)
        }
    }

    /// Serves the requests of one connection (keep-alive) until the client closes it.
    private func handle(_ client: Int32) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            // Headers.
            var headerEnd: Int?
            while headerEnd == nil {
                if let range = find(separator, in: buffer) { headerEnd = range; break }
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self).lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let bodyStart = headerEnd! + separator.count
            while buffer.count < bodyStart + length {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let body = Data(buffer[bodyStart..<(bodyStart + length)])
            lock.withLock { received.append(body) }
            buffer.removeFirst(bodyStart + length)
            let answer = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
            _ = answer.withUnsafeBytes { write(client, $0.baseAddress, answer.count) }
        }
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
