/// Sorting and hashing for the matcher's big arrays (millions of keys per blocking rule, tens of
/// millions of candidate pairs), where a comparison sort with a closure was most of blocking's time.
enum RadixSort {
    /// Sorts ascending: the same result as `keys.sort()`.
    static func sort(_ keys: inout [UInt64]) {
        var none: [Int32] = []
        sort(&keys, carrying: &none)
    }

    /// Sorts `keys` ascending and moves `values` (empty, or one per key) with them. Stable: equal
    /// keys keep their order, so keys appended in index order come out as sorting by (key, index).
    static func sort(_ keys: inout [UInt64], carrying values: inout [Int32]) {
        let n = keys.count
        guard n > 1 else { return }
        precondition(values.isEmpty || values.count == n)
        // Least significant 16 bits first; a digit every key shares (the high bits of small
        // numbers) costs no pass.
        var counts = [Int](repeating: 0, count: 4 << 16)
        for k in keys {
            for d in 0..<4 { counts[d << 16 | Int((k >> (16 * UInt64(d))) & 0xFFFF)] += 1 }
        }
        var keyBuffer = [UInt64](repeating: 0, count: n)
        var valueBuffer = [Int32](repeating: 0, count: values.count)
        for d in 0..<4 {
            let base = d << 16
            if counts[base + Int((keys[0] >> (16 * UInt64(d))) & 0xFFFF)] == n { continue }
            var offset = 0
            for b in 0..<(1 << 16) {
                let c = counts[base + b]
                counts[base + b] = offset
                offset += c
            }
            let shift = 16 * UInt64(d)
            keys.withUnsafeBufferPointer { src in
                keyBuffer.withUnsafeMutableBufferPointer { dst in
                    counts.withUnsafeMutableBufferPointer { pos in
                        if values.isEmpty {
                            for k in src {
                                let b = base + Int((k >> shift) & 0xFFFF)
                                dst[pos[b]] = k
                                pos[b] += 1
                            }
                        } else {
                            values.withUnsafeBufferPointer { vsrc in
                                valueBuffer.withUnsafeMutableBufferPointer { vdst in
                                    for i in 0..<n {
                                        let k = src[i], b = base + Int((k >> shift) & 0xFFFF)
                                        dst[pos[b]] = k
                                        vdst[pos[b]] = vsrc[i]
                                        pos[b] += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &keyBuffer)
            if !values.isEmpty { swap(&values, &valueBuffer) }
        }
    }
}

/// FNV-1a over bytes with a SplitMix finaliser: stable across runs and processes (Swift's `Hasher`
/// is seeded per process), for grouping records by a value without hashing arrays into a dictionary.
struct StableHash {
    private var state: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ byte: UInt8) { state = (state ^ UInt64(byte)) &* 0x100_0000_01B3 }

    mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) {
        var h = state
        for c in bytes { h = (h ^ UInt64(c)) &* 0x100_0000_01B3 }
        state = h
    }

    var value: UInt64 {
        var h = state
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }
}
