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
        let (hasher, size) = try state(path, upTo: nil)
        return (hasher.finalize(), size)
    }

    /// The hasher after the file's first `bytes` bytes, to compare with an earlier version's digest and
    /// continue over what was appended; nil when the file is shorter now.
    public static func prefix(_ path: String, bytes: Int64) throws -> SHA256? {
        let (hasher, size) = try state(path, upTo: bytes)
        return size == bytes ? hasher : nil
    }

    private static func state(_ path: String, upTo limit: Int64?) throws -> (SHA256, Int64) {
        let fd = try CSVReader.openRegular(path)
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size: Int64 = 0
        while true {
            let want = limit.map { Int(min(Int64(1 << 20), $0 - size)) } ?? (1 << 20)
            if want == 0 { break }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, want) }
            if n < 0 { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
            if n == 0 { break }
            size += Int64(n)
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return (hasher, size)
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

/// Facts about a file on disk that a load needs before reading it.
enum FileFacts {
    static func size(of path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
        return Int64(info.st_size)
    }

    /// Throws `notRegular` for a FIFO, device, socket or folder: reading one would block or mislead.
    static func requireRegular(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ConnectorError.notRegular(path, FileKind.describe(mode: info.st_mode)) }
    }
}
