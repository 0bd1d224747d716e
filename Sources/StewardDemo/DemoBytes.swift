import Foundation
import StewardCatalog

/// An append-only UTF-8 byte buffer with the few formatting primitives the generator needs.
///
/// Rows are built byte by byte (no per-field `String` interpolation, no Foundation formatters): at a
/// million customers this is what keeps the generator in the seconds range.
struct DemoBuffer {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    var count: Int { bytes.count }
    var isEmpty: Bool { bytes.isEmpty }

    @inline(__always) mutating func clear() { bytes.removeAll(keepingCapacity: true) }
    @inline(__always) mutating func byte(_ b: UInt8) { bytes.append(b) }
    @inline(__always) mutating func put(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    @inline(__always) mutating func put(_ b: ArraySlice<UInt8>) { bytes.append(contentsOf: b) }
    mutating func put(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// A decimal integer.
    mutating func int(_ value: Int) { padded(value, width: 1) }

    /// A decimal integer left-padded with zeros to at least `width` digits.
    mutating func padded(_ value: Int, width: Int) {
        if value < 0 { bytes.append(0x2D) }
        var n = value.magnitude
        var digits = 1
        var t = n
        while t >= 10 { t /= 10; digits += 1 }
        let total = max(digits, width)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0x30, count: total))
        var i = start + total - 1
        repeat {
            bytes[i] = 0x30 &+ UInt8(truncatingIfNeeded: n % 10)
            n /= 10
            i -= 1
        } while n > 0
    }

    /// An amount in cents as `123.45` (or `-5.00`).
    mutating func cents(_ value: Int) {
        if value < 0 { bytes.append(0x2D) }
        let m = Int(value.magnitude)
        int(m / 100)
        byte(0x2E)
        padded(m % 100, width: 2)
    }

    /// A calendar day (days since 1970-01-01) in one of the formats the demo systems use.
    mutating func date(_ day: Int32, _ style: DemoDateStyle) {
        let (y, m, d) = DemoCalendar.civil(Int(day))
        switch style {
        case .iso:
            padded(y, width: 4); byte(0x2D); padded(m, width: 2); byte(0x2D); padded(d, width: 2)
        case .us:
            padded(m, width: 2); byte(0x2F); padded(d, width: 2); byte(0x2F); padded(y, width: 4)
        case .european:
            padded(d, width: 2); byte(0x2F); padded(m, width: 2); byte(0x2F); padded(y, width: 4)
        }
    }

    /// `2023-04-05T14:22:10Z`.
    mutating func isoDateTime(_ day: Int32, seconds: Int32) {
        date(day, .iso)
        byte(0x54)
        time(seconds)
        byte(0x5A)
    }

    /// `2023-04-05 14:22:10` (the CRM's export style).
    mutating func sqlDateTime(_ day: Int32, seconds: Int32) {
        date(day, .iso)
        byte(0x20)
        time(seconds)
    }

    private mutating func time(_ seconds: Int32) {
        let s = Int(seconds)
        padded(s / 3600, width: 2); byte(0x3A)
        padded(s / 60 % 60, width: 2); byte(0x3A)
        padded(s % 60, width: 2)
    }

    /// A CSV field, quoted (RFC 4180) only when it holds the delimiter, a quote or a line break.
    mutating func csvField(_ value: [UInt8], delimiter: UInt8) {
        var quote = false
        for b in value where b == delimiter || b == 0x22 || b == 0x0A || b == 0x0D {
            quote = true
            break
        }
        if !quote { bytes.append(contentsOf: value); return }
        bytes.append(0x22)
        for b in value {
            if b == 0x22 { bytes.append(0x22) }
            bytes.append(b)
        }
        bytes.append(0x22)
    }

    /// A JSON string literal.
    mutating func jsonString(_ value: [UInt8]) {
        bytes.append(0x22)
        for b in value {
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x09: bytes.append(0x5C); bytes.append(0x74)
            case 0..<0x20:
                put("\\u00")
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(hex[Int(b >> 4)]); bytes.append(hex[Int(b & 15)])
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
    }
}

enum DemoDateStyle { case iso, us, european }

/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after Howard Hinnant.
enum DemoCalendar {
    static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) { Timestamp.civil(fromDays: days) }
    static func days(_ year: Int, _ month: Int, _ day: Int) -> Int { Timestamp.daysFromCivil(year, month, day) }
}

/// A file written in large chunks from a `DemoBuffer`.
struct DemoFile {
    private let handle: FileHandle
    var out = DemoBuffer(capacity: 1 << 21)

    init(_ url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw DemoError.cannotWrite(url.path)
        }
        handle = try FileHandle(forWritingTo: url)
    }

    /// Writes the buffer out once it holds a megabyte.
    @inline(__always)
    mutating func flushIfNeeded() throws {
        if out.count >= 1 << 20 { try flush() }
    }

    mutating func flush() throws {
        if out.isEmpty { return }
        try handle.write(contentsOf: out.bytes)
        out.clear()
    }

    mutating func close() throws {
        try flush()
        try handle.close()
    }
}

/// Byte-level noise: the typos, case changes and accent folding real people and systems introduce.
enum DemoNoise {
    /// One typo in `bytes[range]`: a transposition, deletion or keyboard-neighbour substitution of an
    /// ASCII letter (multi-byte characters are left alone). The first character is kept, as people
    /// rarely mistype it. Returns the change in length (0 or -1).
    @discardableResult
    static func typo(_ bytes: inout [UInt8], _ range: Range<Int>, _ rng: inout DemoRNG) -> Int {
        let n = range.count
        guard n >= 3 else { return 0 }
        for _ in 0..<4 {
            let i = range.lowerBound + 1 + rng.int(n - 1)
            guard isLetter(bytes[i]) else { continue }
            switch rng.int(3) {
            case 0:
                let j = i - 1
                if j > range.lowerBound, isLetter(bytes[j]), bytes[j] != bytes[i] {
                    bytes.swapAt(i, j)
                    return 0
                }
            case 1:
                bytes.remove(at: i)
                return -1
            default:
                bytes[i] = neighbour(bytes[i], &rng)
                return 0
            }
        }
        return 0
    }

    static func lowercase(_ bytes: inout [UInt8], _ range: Range<Int>) {
        for i in range where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] |= 0x20 }
    }

    static func uppercase(_ bytes: inout [UInt8], _ range: Range<Int>) {
        for i in range where bytes[i] >= 0x61 && bytes[i] <= 0x7A { bytes[i] &= ~0x20 }
    }

    @inline(__always)
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    private static let rows: [[UInt8]] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"].map { Array($0.utf8) }

    private static func neighbour(_ b: UInt8, _ rng: inout DemoRNG) -> UInt8 {
        let lower = b | 0x20
        for row in rows {
            guard let k = row.firstIndex(of: lower) else { continue }
            let alt: UInt8
            if k == 0 { alt = row[1] } else if k == row.count - 1 { alt = row[k - 1] } else {
                alt = rng.next() & 1 == 0 ? row[k - 1] : row[k + 1]
            }
            return b == lower ? alt : alt & ~0x20
        }
        return b
    }
}

/// Why the demo generator could not write a project.
public enum DemoError: Error, CustomStringConvertible, Equatable {
    case invalidCustomerCount(Int)
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .invalidCustomerCount(let n): return "demo: customers must be between 1 and \(DemoGenerator.maximumCustomers) (got \(n))"
        case .cannotWrite(let path): return "demo: cannot create file \(path)"
        }
    }
}
