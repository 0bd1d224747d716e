import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 as lowercase hex, streaming, through swift-crypto: BoringSSL uses the CPU's SHA
/// extensions where it has them, which made the digest of a 136 MB file 0.7 → 0.08 s of CPU, time
/// the load's other threads had been waiting for (BENCHMARKS.md).
public struct SHA256 {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public func finalize() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in hasher.finalize() { out.append(hex[Int(byte >> 4)]); out.append(hex[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The digest and size of a file, read in 1 MiB pieces.
    public static func file(_ path: String) throws -> (digest: String, size: Int64) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size: Int64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
            if n == 0 { break }
            size += Int64(n)
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return (hasher.finalize(), size)
    }
}

/// FNV-1a 64-bit: a cheap change-detection hash for staged rows (not for security).
enum FNV {
    /// FNV-1a of the string's UTF-8 bytes.
    static func value(_ s: String) -> UInt64 {
        var s = s
        var h = start
        s.withUTF8 { feed($0, into: &h) }
        return h
    }

    static let start: UInt64 = 0xcbf29ce484222325

    @inline(__always)
    static func feed(_ byte: UInt8, into h: inout UInt64) { h = (h ^ UInt64(byte)) &* 0x100000001b3 }

    @inline(__always)
    static func feed(_ bytes: UnsafeBufferPointer<UInt8>, into h: inout UInt64) {
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
    }

    @inline(__always)
    static func feed(_ bytes: [UInt8], into h: inout UInt64) { bytes.withUnsafeBufferPointer { feed($0, into: &h) } }
}

/// A batch's file digest: known before the load, or computed on its own thread during it.
enum FileDigest {
    case known(String)
    case pending(PendingDigest)

    var known: String? { if case .known(let d) = self { return d }; return nil }

    /// The digest, waiting for the hashing thread if need be.
    func value() throws -> String {
        switch self {
        case .known(let d): return d
        case .pending(let p): return try p.wait()
        }
    }

    static func size(of path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
        return Int64(info.st_size)
    }
}

/// SHA-256 of a file computed on a thread of its own, so hashing overlaps the load instead of preceding it.
final class PendingDigest: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<String, Error> = .success("")

    init(path: String) {
        let thread = Thread { [self] in
            result = Result { try SHA256.file(path).digest }
            done.signal()
        }
        thread.start()
    }

    func wait() throws -> String {
        done.wait(); done.signal()  // signal again: a second wait returns at once
        return try result.get()
    }
}
