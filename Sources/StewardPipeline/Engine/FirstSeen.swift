/// The `unique` check's memory of every value seen in a batch and the line it was first seen on.
/// An open-addressing table over a 64-bit hash of the value's bytes: a million keys cost about a
/// third of what `[String: Int]` costs (SipHash per lookup, rehashing every value as it grows).
struct FirstSeen {
    private var keys: [String] = []
    private var lines: [Int] = []
    /// Each key's hash, so growing the table re-slots entries without rehashing their strings.
    private var hashes: [UInt64] = []
    /// Per slot: the high 32 bits of the value's hash, then its index into `keys` + 1 (0: empty), so a
    /// probe compares hashes without a second memory access. A power of two, at most half full.
    private var slots = [UInt64](repeating: 0, count: 1024)

    var count: Int { keys.count }

    /// The line `value` was first seen on, or nil after remembering `line` as its first.
    mutating func firstLine(of value: String, at line: Int) -> Int? {
        let hash = Self.hash(value)
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 {
            let slot = slots[i]
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
                let entry = Int(slot & 0xFFFF_FFFF) - 1
                if keys[entry] == value { return lines[entry] }
            }
            i = (i + 1) & mask
        }
        keys.append(value); lines.append(line); hashes.append(hash)
        slots[i] = tag | UInt64(keys.count)
        if keys.count * 2 > slots.count { grow() }
        return nil
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot != 0 {
            // The slot's position needs the hash's low bits, which the slot does not keep.
            var i = Int(truncatingIfNeeded: hashes[Int(slot & 0xFFFF_FFFF) - 1]) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }

    /// FNV-1a, then a final mix so the low bits (the slot) depend on every byte.
    static func hash(_ value: String) -> UInt64 {
        var h = FNV.value(value)
        h ^= h >> 33; h = h &* 0xff51afd7ed558ccd; h ^= h >> 33
        return h
    }
}
