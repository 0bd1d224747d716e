/// Groups records into customers: connected components over match edges, merged strongest edge
/// first, with a cluster-level check against chaining. Two groups that already hold several records
/// join only when their records agree on average (every cross pair scored), so one weak or lucky
/// link between two people who share a common name cannot fuse their clusters.
public struct Clusterer: Sendable {
    /// Edges at or above this probability are merge candidates.
    public var threshold: Double
    /// The mean probability over all cross pairs two groups need to merge.
    public var groupAgreement: Double
    /// No customer grows beyond this many records.
    public var maxClusterSize: Int

    public init(threshold: Double, groupAgreement: Double = 0.5, maxClusterSize: Int = 40) {
        self.threshold = threshold
        self.groupAgreement = groupAgreement
        self.maxClusterSize = maxClusterSize
    }

    public struct Edge: Sendable {
        public var a: Int32
        public var b: Int32
        public var probability: Double
        public init(a: Int32, b: Int32, probability: Double) { self.a = a; self.b = b; self.probability = probability }
    }

    public struct Result: Sendable {
        /// The cluster label of each record: the smallest record index in its cluster.
        public var labels: [Int32]
        /// Edges above the threshold that the chaining guard refused (for the review queue).
        public var refused: [Edge]
    }

    /// - parameter probability: scores any two records (cross pairs need not be candidate pairs);
    ///   negative for a conflict (first names no typo explains, birth dates years apart, or a record
    ///   without a first name whose email or national id is another's: never one person; the
    ///   matcher's `PackedVector.apart`).
    /// - parameter cannotLink: record pairs (i < j packed as i << 32 | j) a steward rejected: never in one customer.
    public func cluster(count: Int, edges: [Edge], cannotLink: Set<UInt64> = [], probability: (Int, Int) -> Double) -> Result {
        var parent = Array(0..<Int32(count))
        // Each group's members as a linked list from its root, in merge order (an array per record
        // was a million allocations): `next` links them, `last` and `size` are kept at the root.
        var next = [Int32](repeating: -1, count: count), last = parent, size = [Int32](repeating: 1, count: count)
        func find(_ x: Int32) -> Int32 {
            var x = x
            while parent[Int(x)] != x { parent[Int(x)] = parent[Int(parent[Int(x)])]; x = parent[Int(x)] }
            return x
        }
        func members(_ root: Int32) -> UnfoldSequence<Int32, Int32> {
            sequence(state: root) { x in
                guard x >= 0 else { return nil }
                defer { x = next[Int(x)] }
                return x
            }
        }
        let strong = edges.filter { $0.probability >= threshold }.sorted {
            $0.probability != $1.probability ? $0.probability > $1.probability : ($0.a, $0.b) < ($1.a, $1.b)
        }
        var refused: [Edge] = []
        for e in strong {
            let ra = find(e.a), rb = find(e.b)
            if ra == rb { continue }
            let sa = Int(size[Int(ra)]), sb = Int(size[Int(rb)])
            if sa + sb > maxClusterSize { refused.append(e); continue }
            if !cannotLink.isEmpty && members(ra).contains(where: { x in members(rb).contains { y in cannotLink.contains(Self.pairKey(x, y)) } }) {
                refused.append(e); continue
            }
            if e.probability < 1, sa > 1 || sb > 1 {
                var sum = 0.0, conflict = false
                outer: for x in members(ra) {
                    for y in members(rb) {
                        let p = probability(Int(x), Int(y))
                        if p < 0 { conflict = true; break outer }
                        sum += p
                    }
                }
                if conflict || sum / Double(sa * sb) < groupAgreement { refused.append(e); continue }
            }
            let (keep, gone) = ra < rb ? (ra, rb) : (rb, ra)
            parent[Int(gone)] = keep
            next[Int(last[Int(keep)])] = gone
            last[Int(keep)] = last[Int(gone)]
            size[Int(keep)] += size[Int(gone)]
        }
        var labels = [Int32](repeating: 0, count: count)
        for i in 0..<count { labels[i] = find(Int32(i)) }
        // Label = smallest member, independent of merge order.
        var smallest = [Int32](repeating: Int32.max, count: count)
        for i in 0..<count { let r = Int(labels[i]); smallest[r] = min(smallest[r], Int32(i)) }
        for i in 0..<count { labels[i] = smallest[Int(labels[i])] }
        return Result(labels: labels, refused: refused)
    }

    public static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        a < b ? UInt64(a) << 32 | UInt64(b) : UInt64(b) << 32 | UInt64(a)
    }
}
