/// The `unique` check's memory of every value seen in a batch and the line it was first seen on.
/// An open-addressing table over a 64-bit hash of the value's bytes: a million keys cost about a
/// third of what `[String: Int]` costs (SipHash per lookup, rehashing every value as it grows).
struct FirstSeen {
    private var keys: [String] = []
    private var lines: [Int] = []
    private var hashes: [UInt64] = []
    /// Index into `keys` + 1; 0 is an empty slot. The capacity is a power of two, at most half full.
    private var slots = [Int32](repeating: 0, count: 1024)

    var count: Int { keys.count }

    /// The line `value` was first seen on, or nil after remembering `line` as its first.
    mutating func firstLine(of value: String, at line: Int) -> Int? {
        let hash = Self.hash(value)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 {
            let entry = Int(slots[i]) - 1
            if hashes[entry] == hash && keys[entry] == value { return lines[entry] }
            i = (i + 1) & mask
        }
        keys.append(value); lines.append(line); hashes.append(hash)
        slots[i] = Int32(keys.count)
        if keys.count * 2 > slots.count { grow() }
        return nil
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (entry, hash) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: hash) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = Int32(entry + 1)
        }
    }

    /// FNV-1a, then a final mix so the low bits (the slot) depend on every byte.
    static func hash(_ value: String) -> UInt64 {
        var value = value
        var h: UInt64 = 0xcbf29ce484222325
        value.withUTF8 { for b in $0 { h = (h ^ UInt64(b)) &* 0x100000001b3 } }
        h ^= h >> 33; h = h &* 0xff51afd7ed558ccd; h ^= h >> 33
        return h
    }
}
