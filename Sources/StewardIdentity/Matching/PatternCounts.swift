import Foundation

/// How many pairs have each comparison vector, counted in an open-addressing table on the packed
/// word (a `Dictionary` hashed every pair's vector with SipHash); a pass has a few thousand vectors.
struct PatternCounts {
    /// bits + 1 (0: empty slot), and the count at the same slot.
    private var keys = [UInt64](repeating: 0, count: 1024)
    private var counts = [Int](repeating: 0, count: 1024)
    private var used = 0

    mutating func add(_ v: PackedVector, _ n: Int = 1) {
        let key = v.bits &+ 1, mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
        if keys[slot] == 0 {
            if (used + 1) * 2 > keys.count { grow(); add(v, n); return }
            keys[slot] = key
            used += 1
        }
        counts[slot] += n
    }

    private mutating func grow() {
        let old = zip(keys, counts).filter { $0.0 != 0 }
        keys = [UInt64](repeating: 0, count: keys.count * 2)
        counts = [Int](repeating: 0, count: keys.count)
        used = 0
        for (k, n) in old { add(PackedVector(bits: k &- 1), n) }
    }

    var dictionary: [PackedVector: Int] {
        var out: [PackedVector: Int] = [:]
        for (k, n) in zip(keys, counts) where k != 0 { out[PackedVector(bits: k &- 1)] = n }
        return out
    }
}
