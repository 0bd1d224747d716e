/// The `unique` check's memory of every value seen in a batch and the line it was first seen on.
/// An open-addressing table over a 64-bit hash of the value's bytes: a million keys cost about a
/// third of what `[String: Int]` costs (SipHash per lookup, rehashing every value as it grows).
struct FirstSeen {
    private var keys: [String] = []
    private var lines: [Int] = []
    /// Per slot: the high 32 bits of the value's hash, then its index into `keys` + 1 (0: empty), so a
    /// probe compares hashes without a second memory access. A power of two, at most half full.
    /// A value's home slot is its hash's top bits, so the tag alone places an entry when the table
    /// grows: the old slots are read in order and land in order (a table indexed by the low bits
    /// needed every key's hash read back at random, and at a million keys the table was 12 % of the
    /// reader thread's time, nearly all of it cache misses: BENCHMARKS.md, session 23).
    private var slots = [UInt64](repeating: 0, count: 1024)
    /// 64 − log2(slots.count): a hash shifted right by this is its home slot.
    private var shift: UInt64 = 54

    var count: Int { keys.count }

    /// The line `value` was first seen on, or nil after remembering `line` as its first.
    mutating func firstLine(of value: String, at line: Int) -> Int? {
        let hash = Self.hash(value)
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash >> shift)
        while slots[i] != 0 {
            let slot = slots[i]
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
                let entry = Int(slot & 0xFFFF_FFFF) - 1
                if keys[entry] == value { return lines[entry] }
            }
            i = (i + 1) & mask
        }
        keys.append(value); lines.append(line)
        slots[i] = tag | UInt64(keys.count)
        if keys.count * 2 > slots.count { grow() }
        return nil
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        shift -= 1
        let mask = slots.count - 1
        // Linear probing finds an entry wherever insertion order put it, so long as every slot from its
        // home to it was taken when it was placed: true in any order, since nothing is ever removed.
        for slot in old where slot != 0 {
            var i = Int(truncatingIfNeeded: (slot & 0xFFFF_FFFF_0000_0000) >> shift)
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }

    /// Reads the home slots of values about to be looked up, all at once, and returns them folded
    /// together (for the caller to keep, so the reads are not optimised away). A lookup's first probe
    /// of a big table is a cache miss: one at a time they queue (at a million keys, 91 % of the
    /// lookup's time sat on that one load, BENCHMARKS.md session 23); a loop of loads alone, with
    /// nothing between them, lets the processor wait for many at once.
    func prefetch(_ values: some Sequence<String>) -> UInt64 {
        let shift = self.shift
        let homes = values.map { Int(truncatingIfNeeded: Self.hash($0) >> shift) }
        let mask = slots.count - 1
        var folded: UInt64 = 0
        slots.withUnsafeBufferPointer { table in
            for home in homes { folded ^= table[home & mask] }
        }
        return folded
    }

    /// FNV-1a, then a final mix so the top bits (the slot) depend on every byte.
    static func hash(_ value: String) -> UInt64 {
        var h = FNV.value(value)
        h ^= h >> 33; h = h &* 0xff51afd7ed558ccd; h ^= h >> 33
        return h
    }
}
