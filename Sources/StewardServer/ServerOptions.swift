import Foundation
import StewardCatalog

/// Where and how `steward serve` listens. Loopback is the default: a catalog holds PII, so any
/// other address needs TLS unless the operator says `--insecure` on purpose.
public struct ServerOptions: Sendable, Equatable {
    public static let defaultListen = "127.0.0.1:8750"

    public var host: String
    public var port: Int
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var insecure: Bool
    /// Requests per second each token may send (a bucket of as many; beyond it: 429 with Retry-After).
    public var requestsPerSecond: Double = 1_000
    /// The largest request body taken (`POST /v1/events`): beyond it, 413.
    public var maxBodyBytes = 10 * 1024 * 1024
    /// How often the server rewrites its record beside the catalog for the console (`ServePresence`).
    public var presenceInterval: TimeInterval = ServePresence.heartbeat

    /// Parses and judges `--listen HOST:PORT` with the TLS options; every refusal is a `ServeError`.
    public init(listen: String = ServerOptions.defaultListen, tlsCertificatePath: String? = nil,
                tlsKeyPath: String? = nil, insecure: Bool = false) throws {
        (host, port) = try Self.parse(listen)
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.insecure = insecure
        if (tlsCertificatePath == nil) != (tlsKeyPath == nil) {
            throw ServeError.usage("--tls-cert and --tls-key go together: give both, or neither")
        }
        for path in [tlsCertificatePath, tlsKeyPath].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ServeError.usage("\(path): cannot read this TLS file (missing, or not readable by this user)")
        }
        if !isLoopback && !usesTLS && !insecure {
            throw ServeError.usage("refusing to listen on \(listen) without TLS: the API serves customers' personal data. "
                                   + "Give --tls-cert FILE and --tls-key FILE, or --insecure to serve plain HTTP beyond this machine on purpose")
        }
    }

    public var usesTLS: Bool { tlsCertificatePath != nil && tlsKeyPath != nil }

    /// 127.0.0.0/8, ::1 and `localhost`: reachable from this machine only.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// `http(s)://host:port` as a client would type it.
    public func url(port actualPort: Int? = nil) -> String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(usesTLS ? "https" : "http")://\(shownHost):\(actualPort ?? port)"
    }

    /// `HOST:PORT`, `[IPv6]:PORT`, or `:PORT` (loopback). Port 0 asks the system for a free one.
    static func parse(_ listen: String) throws -> (String, Int) {
        let bad = ServeError.usage("--listen '\(listen)' is not HOST:PORT (such as 127.0.0.1:8750 or [::1]:8750)")
        var host: Substring, portText: Substring
        if listen.hasPrefix("[") {
            guard let close = listen.firstIndex(of: "]"), listen[listen.index(after: close)...].hasPrefix(":") else { throw bad }
            host = listen[listen.index(after: listen.startIndex)..<close]
            portText = listen[listen.index(close, offsetBy: 2)...]
        } else {
            guard let colon = listen.lastIndex(of: ":"), !listen[..<colon].contains(":") else { throw bad }
            host = listen[..<colon]
            portText = listen[listen.index(after: colon)...]
        }
        if host.isEmpty { host = "127.0.0.1" }
        guard let port = Int(portText), (0...65_535).contains(port), !host.contains(where: \.isWhitespace) else { throw bad }
        return (String(host), port)
    }
}

/// Why `steward serve` will not start (exit 2): the message names the option and what to do.
public enum ServeError: Error, CustomStringConvertible, Equatable {
    case usage(String)

    public var description: String {
        switch self {
        case .usage(let message): return message
        }
    }
}
