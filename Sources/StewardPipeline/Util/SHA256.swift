import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 (FIPS 180-4), streaming. Written here because the only mirrored implementation
/// (swift-crypto) would add BoringSSL to every build for one hash of each source file.
public struct SHA256 {
    // The state as eight stored words, not an array: the rounds run with no bounds or uniqueness checks.
    private var h0: UInt32 = 0x6a09e667, h1: UInt32 = 0xbb67ae85, h2: UInt32 = 0x3c6ef372, h3: UInt32 = 0xa54ff53a
    private var h4: UInt32 = 0x510e527f, h5: UInt32 = 0x9b05688c, h6: UInt32 = 0x1f83d9ab, h7: UInt32 = 0x5be0cd19
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var offset = 0
        Self.k.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                if !pending.isEmpty {
                    let take = min(64 - pending.count, bytes.count)
                    pending.append(contentsOf: bytes[0..<take])
                    offset = take
                    if pending.count == 64 {
                        let block = pending
                        block.withUnsafeBytes { compress($0.baseAddress!, w.baseAddress!, k.baseAddress!) }
                        pending.removeAll(keepingCapacity: true)
                    }
                }
                while bytes.count - offset >= 64 {
                    compress(bytes.baseAddress! + offset, w.baseAddress!, k.baseAddress!)
                    offset += 64
                }
            }
        }
        if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
    }

    public mutating func update<D: DataProtocol>(_ data: D) {
        let bytes = Array(data)
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func finalize() -> String {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        let padding = (56 - Int((length + 1) % 64) + 64) % 64
        tail += [UInt8](repeating: 0, count: padding)
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        let savedLength = length
        tail.withUnsafeBytes { update($0) }
        length = savedLength
        return [h0, h1, h2, h3, h4, h5, h6, h7].map { word in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 8 - hex.count) + hex
        }.joined()
    }

    @inline(__always)
    private mutating func compress(_ block: UnsafeRawPointer, _ w: UnsafeMutablePointer<UInt32>, _ k: UnsafePointer<UInt32>) {
        for i in 0..<16 {
            w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
        }
        for i in 16..<64 {
            let w15 = w[i - 15], w2 = w[i - 2]
            let s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)
            let s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
        }
        h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
        h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
    }

    @inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// Hashes a file in 1 MB chunks; returns the hex digest and the size.
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
    /// The row hash stored in staging, as hex.
    static func hash(_ s: String) -> String { hex(value(s)) }

    static func hex(_ value: UInt64) -> String { String(value, radix: 16) }

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
