/// xoshiro256** seeded through SplitMix64: the demo generator's only source of randomness.
///
/// Every phase of the generator draws from its own stream (`DemoRNG(seed:stream:)`), so a change in one
/// source's noise never shifts the data of another, and the same `(customers, seed)` always produces the
/// same bytes. Foundation's randomness is never used.
struct DemoRNG {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    init(seed: UInt64, stream: UInt64) {
        var sm = SplitMix64(state: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform integer in `0..<n` (n > 0), by multiply-high (bias below 2^-40 for our sizes).
    @inline(__always)
    mutating func int(_ n: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A uniform integer in `lo...hi`.
    @inline(__always)
    mutating func range(_ lo: Int, _ hi: Int) -> Int { lo + int(hi - lo + 1) }

    /// A uniform double in `[0, 1)`.
    @inline(__always)
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    @inline(__always)
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// An index in `0..<n` skewed towards the front: half uniform, half quadratic. With a list ordered by
    /// popularity this gives many John Smiths and a long tail.
    @inline(__always)
    mutating func skewed(_ n: Int) -> Int {
        let u = unit()
        if next() & 1 == 0 { return min(n - 1, Int(u * Double(n))) }
        return min(n - 1, Int(u * u * Double(n)))
    }

    @inline(__always)
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64: small, seedable and identical on every platform (also the bench's generators).
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
