import Foundation

/// Identity-resolution settings: `matching:` of steward.yml with defaults.
public struct MatchSettings: Sendable {
    public var threshold = 0.9
    public var reviewLow = 0.6
    public var reviewHigh = 0.9
    public var rules = BlockingRule.defaults
    /// Blocks up to this size yield all their pairs; bigger ones are compared in sorted
    /// neighbourhoods of `blockWindow` records (see `CandidatePairs`).
    public var maxBlockSize = CandidatePairs.defaultMaxBlockSize
    public var blockWindow = CandidatePairs.defaultWindow
    /// Mean cross-pair probability two multi-record groups need to merge (chaining guard).
    public var groupAgreement = 0.3
    public var maxClusterSize = 40
    public var uSamples = 300_000
    /// EM sees at most this many pairs per training rule (an even sample beyond).
    public var maxTrainingPairs = 500_000
    public var seed: UInt64 = 7

    public init() {}
}

/// Everything one matching pass produces, in memory.
public struct MatchResult: Sendable {
    public var records: [PersonRecord]
    public var candidatePairs: Int
    public var pairsPerRule: [Int]
    public var junk: [(JunkValue, Int)]
    public var model: FSModel
    /// Scored pairs at or above the review band's lower bound.
    public var edges: [Clusterer.Edge]
    public var labels: [Int32]
    /// Edges the chaining guard refused.
    public var refused: [Clusterer.Edge]
    public var seconds: [String: Double]
    /// CPU seconds per stage (every thread): the wall time doubles when another process has a core.
    public var cpuSeconds: [String: Double] = [:]

    public var clusterCount: Int { Set(labels).count }
}

/// Block, compare, fit (u from random pairs, m and λ by EM), score, cluster.
public struct Matcher: Sendable {
    public var settings: MatchSettings
    public var nicknames: Nicknames

    public init(settings: MatchSettings = MatchSettings(), nicknames: Nicknames) {
        self.settings = settings
        self.nicknames = nicknames
    }

    /// - parameters:
    ///   - accepted: pairs a steward accepted (linked whatever the model says).
    ///   - rejected: pairs a steward rejected (never in one customer).
    public func run(_ records: [PersonRecord], accepted: Set<UInt64> = [], rejected: Set<UInt64> = []) -> MatchResult {
        var clock = Clock()
        let (junk, junkMasks) = JunkDetector.detectWithMasks(records, implausibleCount: settings.maxClusterSize)
        let comparator = Comparator(nicknames: nicknames, junk: Set(junk.map(\.0)))
        clock.lap("junk")
        // Training rules' pairs come from here too: a training rule that is also a blocking rule keeps
        // its pairs (blocked once), the others are blocked alongside (on the other core).
        let shared = Set(settings.rules.indices.filter { Self.trainingRules.contains(settings.rules[$0]) })
        let extra = Self.trainingRules.filter { !settings.rules.contains($0) }
        var candidates = CandidatePairs.generate(records, rules: settings.rules, junkMasks: junkMasks, maxBlockSize: settings.maxBlockSize,
                                                 window: settings.blockWindow, keeping: shared, extra: extra)
        var blocked: [(BlockingRule, [UInt64])] = shared.sorted().map { (settings.rules[$0], candidates.rulePairs[$0]!) }
            + extra.indices.map { (extra[$0], candidates.rulePairs[settings.rules.count + $0]!) }
        candidates.rulePairs = [:]
        clock.lap("blocking")
        // Compared on every core, each in its own slice of the pairs (the result does not depend
        // on how the slices fall: each pair's vector lands at its own index).
        let pairs = candidates.pairs
        var vectors = [PackedVector](repeating: PackedVector(bits: 0), count: pairs.count)
        var slicePatterns = [[PackedVector: Int]](repeating: [:], count: Self.slices(pairs.count))
        RecordView.with(records) { records in
        vectors.withUnsafeMutableBufferPointer { vectorBuffer in
            slicePatterns.withUnsafeMutableBufferPointer { countBuffer in
                let out = SlicedOutput(vectorBuffer), counts = SlicedOutput(countBuffer)
                DispatchQueue.concurrentPerform(iterations: counts.count) { slice in
                    var local = PatternCounts()
                    for k in Self.range(slice, of: counts.count, pairs.count) {
                        let p = pairs[k]
                        let i = Int(p >> 32), j = Int(p & 0xFFFF_FFFF)
                        let v = comparator.compare(records.pointer(i), records.pointer(j), junk: junkMasks[i] | junkMasks[j])
                        out[k] = v
                        local.add(v)
                    }
                    counts[slice] = local.dictionary
                }
            }
        }
        }
        var patterns: [PackedVector: Int] = [:]
        for local in slicePatterns { patterns.merge(local, uniquingKeysWith: +) }
        clock.lap("compare")
        var model = FSModel.initial()
        model.estimateU(records, comparator: comparator, junkMasks: junkMasks, samples: settings.uSamples, seed: settings.seed)
        let training = trainM(records, comparator: comparator, junkMasks: junkMasks, blocked: blocked, base: model)
        blocked = []
        model.m = training.m
        var sharedAddress = 0, sharedPhone = 0
        for (v, n) in patterns {
            let levels = v.unpacked.levels
            guard levels[Field.address.rawValue] >= 3, levels[Field.firstName.rawValue] == 0, levels[Field.phone.rawValue] >= 0 else { continue }
            sharedAddress += n
            if levels[Field.phone.rawValue] == 2 { sharedPhone += n }
        }
        if sharedAddress >= 20 { model.phoneGivenAddressU = Double(sharedPhone + 1) / Double(sharedAddress + 2) }
        // λ among the candidate pairs with m and u fixed, rescaled to the share of all record pairs
        // that match: the prior falls as the data grows, so common names do not fuse people at scale.
        var em = model
        em.lambda = 0.1
        em.estimateM(patterns.sorted { $0.key.bits < $1.key.bits }.map { ($0.key.unpacked, $0.value) }, lambdaOnly: true)
        model.iterations = em.iterations
        model.converged = em.converged
        model.candidateLambda = em.lambda
        let allPairs = max(1, Double(records.count) * Double(max(records.count - 1, 1)) / 2)
        // Matching pairs: from the name session (free u keeps same-name strangers out of its λ),
        // divided by the share of matches whose names block together (from the other sessions' m).
        var expectedMatches = em.lambda * Double(max(candidates.pairs.count, 1))
        if let named = training.namePairs {
            let f = model.m[Field.firstName.rawValue], l = model.m[Field.lastName.rawValue]
            let share = (f[4] + f[3]) * (l[3] + l[1] + 0.5 * l[2])
            if share > 0.05 { expectedMatches = min(expectedMatches, named / share) }
        }
        model.lambda = min(max(expectedMatches / allPairs, 1e-12), 0.5)
        clock.lap("estimate")
        let frequencies = TermFrequencies(records)
        let scorer = Scorer(model: model, comparator: comparator, frequencies: frequencies)
        let weights = PairWeights(model: model, frequencies: frequencies, records: records.count)
        // Scored on every core into per-pair probabilities, then collected in pair order.
        var probabilities = [Double](repeating: 0, count: pairs.count)
        let packed = vectors
        probabilities.withUnsafeMutableBufferPointer { buffer in
            let out = SlicedOutput(buffer), slices = Self.slices(pairs.count)
            DispatchQueue.concurrentPerform(iterations: slices) { slice in
                for k in Self.range(slice, of: slices, pairs.count) {
                    out[k] = FSModel.probability(weight: weights.weight(packed[k], Int(pairs[k] >> 32)))
                }
            }
        }
        vectors = []
        var edges: [Clusterer.Edge] = []
        RecordView.with(records) { view in
            for (k, p) in pairs.enumerated() where probabilities[k] >= settings.reviewLow && !accepted.contains(p) {
                let a = Int32(p >> 32), b = Int32(p & 0xFFFF_FFFF)
                // Two people however much else they share (twins, a household): held for review, a
                // steward may still link them.
                let twoPeople = probabilities[k] >= settings.threshold && packed[k].twoPeople(view.pointer(Int(a)), view.pointer(Int(b)))
                edges.append(.init(a: a, b: b, probability: twoPeople ? settings.threshold.nextDown : probabilities[k]))
            }
            holdAmbiguous(&edges, view, comparator: comparator, junkMasks: junkMasks)
        }
        probabilities = []
        for p in accepted.sorted() { edges.append(.init(a: Int32(p >> 32), b: Int32(p & 0xFFFF_FFFF), probability: 1)) }
        clock.lap("score")
        let clusterer = Clusterer(threshold: settings.threshold, groupAgreement: settings.groupAgreement,
                                  maxClusterSize: settings.maxClusterSize)
        let clustered = clusterer.cluster(count: records.count, edges: edges, cannotLink: rejected) { i, j in
            let s = scorer.score(records[i], records[j])
            return RecordView.with(records) { PackedVector(s.vector).apart($0.pointer(i), $0.pointer(j)) } ? -1 : s.probability
        }
        clock.lap("cluster")
        return MatchResult(records: records, candidatePairs: candidates.pairs.count, pairsPerRule: candidates.perRule,
                           junk: junk, model: model, edges: edges, labels: clustered.labels, refused: clustered.refused,
                           seconds: clock.laps, cpuSeconds: clock.cpuLaps)
    }
}

extension Matcher {
    /// A record without a first name, strongly linked by what a household shares (surname, address,
    /// landline, a twin's birth date), could be any member: it joins none and its links are held for
    /// review when it is `apart` from a record it links to, when two records it links to are, or when
    /// another record without a first name linked to the same record is. Only such records can be
    /// ambiguous: a first name tells household members apart.
    func holdAmbiguous(_ edges: inout [Clusterer.Edge], _ view: RecordView, comparator: Comparator, junkMasks: [UInt8]) {
        var linked: [Int32: [Int32]] = [:], nameless: [Int32: [Int32]] = [:]
        for e in edges where e.probability >= settings.threshold {
            if view[Int(e.a)].first.isEmpty { linked[e.a, default: []].append(e.b); nameless[e.b, default: []].append(e.a) }
            if view[Int(e.b)].first.isEmpty { linked[e.b, default: []].append(e.a); nameless[e.a, default: []].append(e.b) }
        }
        func apart(_ a: Int32, _ b: Int32) -> Bool {
            let a = Int(a), b = Int(b)
            return comparator.compare(view.pointer(a), view.pointer(b), junk: junkMasks[a] | junkMasks[b]).apart(view.pointer(a), view.pointer(b))
        }
        /// The first pair of `records` that is apart (a record has a few strong links: a dozen tell).
        func apartPair(_ records: [Int32]) -> (Int32, Int32)? {
            let records = Array(records.sorted().prefix(12))
            for i in records.indices { for j in (i + 1)..<records.count where apart(records[i], records[j]) { return (records[i], records[j]) } }
            return nil
        }
        var held = Set<Int32>()
        for (x, others) in linked where others.contains(where: { apart(x, $0) }) || apartPair(others) != nil { held.insert(x) }
        for (_, xs) in nameless where xs.count > 1 {
            if let (x, y) = apartPair(xs) { held.insert(x); held.insert(y) }
        }
        guard !held.isEmpty else { return }
        for k in edges.indices where edges[k].probability >= settings.threshold && (held.contains(edges[k].a) || held.contains(edges[k].b)) {
            edges[k].probability = settings.threshold.nextDown
        }
    }

    /// How many slices a loop over `count` items is cut into: one per core, one for small loops.
    static func slices(_ count: Int) -> Int {
        count < 4_096 ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    }

    /// The items of slice `slice` of `slices`.
    static func range(_ slice: Int, of slices: Int, _ count: Int) -> Range<Int> {
        (count * slice / slices)..<(count * (slice + 1) / slices)
    }

    /// Splink's training: one EM session per training rule, over the pairs that rule blocks, with
    /// the fields the rule blocks on left out (their agreement is forced there, so says nothing).
    /// Households (same surname and address) never dominate a session that blocks on names or date
    /// of birth, so "different first name" stays strong evidence against a match.
    public static let trainingRules: [BlockingRule] = [
        BlockingRule(keys: [.firstCanonical, .lastPhonetic]), BlockingRule(keys: [.dob]),
    ]

    /// - parameter blocked: training rules' pairs already generated (same records, junk and settings).
    /// - returns: m per field, and the matching pairs the name session found (λ × its pairs).
    func trainM(_ records: [PersonRecord], comparator: Comparator, junkMasks: [UInt8], blocked: [(BlockingRule, [UInt64])], base: FSModel) -> (m: [[Double]], namePairs: Double?) {
        var namePairs: Double?
        var sums = base.m.map { $0.map { _ in 0.0 } }
        var sessions = [Int](repeating: 0, count: Field.allCases.count)
        for rule in Self.trainingRules {
            let pairs = blocked.first { $0.0 == rule }?.1
                ?? CandidatePairs.generate(records, rules: [rule], junkMasks: junkMasks, maxBlockSize: settings.maxBlockSize,
                                           window: settings.blockWindow).pairs
            guard pairs.count >= 50 else { continue }
            let masked = Set(rule.keys.map(\.field))
            let step = max(1, pairs.count / settings.maxTrainingPairs)
            // Every step-th pair, compared on every core; the counts merge to the same patterns however
            // the slices fall.
            let sampled = (pairs.count + step - 1) / step
            var slicePatterns = [[PackedVector: Int]](repeating: [:], count: Self.slices(sampled))
            RecordView.with(records) { records in
                slicePatterns.withUnsafeMutableBufferPointer { buffer in
                    let out = SlicedOutput(buffer)
                    DispatchQueue.concurrentPerform(iterations: out.count) { slice in
                        var local = PatternCounts()
                        for t in Self.range(slice, of: out.count, sampled) {
                            let p = pairs[t * step]
                            let i = Int(p >> 32), j = Int(p & 0xFFFF_FFFF)
                            var v = comparator.compare(records.pointer(i), records.pointer(j), junk: junkMasks[i] | junkMasks[j])
                            for f in masked { v[f] = -1 }
                            if masked.contains(.firstName) || masked.contains(.lastName) { v.swappedNames = false }
                            local.add(v)
                        }
                        out[slice] = local.dictionary
                    }
                }
            }
            var patterns: [PackedVector: Int] = [:]
            for local in slicePatterns { patterns.merge(local, uniquingKeysWith: +) }
            var em = base
            em.m = FSModel.initial().m
            em.lambda = 0.3
            em.estimateM(patterns.sorted { $0.key.bits < $1.key.bits }.map { ($0.key.unpacked, $0.value) }, maxIterations: 60, freeU: true)
            if masked.contains(.firstName) && masked.contains(.lastName) { namePairs = em.lambda * Double(pairs.count) }
            for f in Field.allCases where !masked.contains(f) {
                for l in sums[f.rawValue].indices { sums[f.rawValue][l] += em.m[f.rawValue][l] }
                sessions[f.rawValue] += 1
            }
        }
        return (Field.allCases.map { f in
            sessions[f.rawValue] == 0 ? base.m[f.rawValue] : sums[f.rawValue].map { $0 / Double(sessions[f.rawValue]) }
        }, namePairs)
    }
}

/// The records read in place, from one thread or several: `view[i]` borrows the element (an array
/// subscript copies it out, retaining each of its dozen arrays), which the hot loops cannot afford.
/// Valid only inside `with`, while the array is alive and unchanged.
struct RecordView: @unchecked Sendable {
    let base: UnsafePointer<PersonRecord>?

    subscript(i: Int) -> PersonRecord {
        unsafeAddress { base! + i }
    }

    /// The record's address, for functions that read its fields in place (`Comparator.compare`).
    func pointer(_ i: Int) -> UnsafePointer<PersonRecord> { base! + i }

    static func with<R>(_ records: [PersonRecord], _ body: (RecordView) throws -> R) rethrows -> R {
        try records.withUnsafeBufferPointer { try body(RecordView(base: $0.baseAddress)) }
    }
}

/// One buffer written from several threads, each thread at its own indices only (the slices of
/// `Matcher.range`), so no element is touched by two threads; the buffer outlives the writes.
struct SlicedOutput<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>?
    let count: Int

    init(_ buffer: UnsafeMutableBufferPointer<T>) {
        base = buffer.baseAddress
        count = buffer.count
    }

    subscript(k: Int) -> T {
        get { base![k] }
        nonmutating set { base![k] = newValue }
    }
}

/// A comparison vector in one word: 4 bits per field (level + 1), bit 63 = names swapped.
struct PackedVector: Hashable, Sendable {
    var bits: UInt64

    init(bits: UInt64) { self.bits = bits }

    init(_ v: ComparisonVector) {
        var b: UInt64 = 0
        for (i, l) in v.levels.enumerated() { b |= UInt64(Int(l) + 1) << (4 * UInt64(i)) }
        if v.swappedNames { b |= 1 << 63 }
        bits = b
    }

    var unpacked: ComparisonVector {
        ComparisonVector(levels: Field.allCases.map { self[$0] }, swappedNames: swappedNames)
    }

    /// A field's level (-1: missing).
    subscript(field: Field) -> Int8 {
        get { Int8(Int((bits >> (4 * UInt64(field.rawValue))) & 0xF) - 1) }
        set {
            let shift = 4 * UInt64(field.rawValue)
            bits = bits & ~(0xF << shift) | UInt64(Int(newValue) + 1) << shift
        }
    }

    var swappedNames: Bool {
        get { bits & (1 << 63) != 0 }
        set { bits = newValue ? bits | 1 << 63 : bits & ~(1 << 63) }
    }

    /// Two people for certain, whatever else they share: first names no typo explains
    /// (`Comparator.distinctFirstNames`) or birth dates years apart, unless a personal identifier
    /// (email or national id, never a placeholder) agrees exactly. Household members share address,
    /// landline and surname, twins also their birth date: only their first names tell them apart,
    /// so no sum of shared household evidence may outweigh that.
    /// - parameters: a, b: the two records this vector compares.
    func twoPeople(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>) -> Bool {
        guard self[.email] != 2 && self[.nationalId] != 2 else { return false }
        return self[.dob] == 0 || (self[.firstName] == 0 && Comparator.distinctFirstNames(a, b))
    }

    /// `twoPeople`, or a record without a first name whose email or national id is another's (and
    /// no personal identifier agrees): without the first name, only that tells household members apart.
    func apart(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>) -> Bool {
        if twoPeople(a, b) { return true }
        return (a.pointee.first.isEmpty || b.pointee.first.isEmpty) && (self[.email] == 0 || self[.nationalId] == 0)
            && self[.email] != 2 && self[.nationalId] != 2
    }
}

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

struct Clock {
    var start = Date()
    var laps: [String: Double] = [:]
    /// Process CPU seconds (every thread, user and system) per lap: wall time doubles when another
    /// process has the other core, CPU time does not.
    var cpuLaps: [String: Double] = [:]
    private var cpuStart = Clock.cpuNow()

    mutating func lap(_ name: String) {
        let now = Date(), cpu = Self.cpuNow()
        laps[name] = now.timeIntervalSince(start)
        cpuLaps[name] = cpu - cpuStart
        start = now
        cpuStart = cpu
    }

    /// The process's peak resident memory so far in MB (Linux's VmHWM), nil where it cannot be read.
    static func peakResidentMB() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") else { return nil }
        return kb / 1024
    }

    static func cpuNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// Pairwise precision, recall and F1 of a clustering against known entities.
public struct PairwiseScore: Sendable, Codable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var truePairs: Int
    public var predictedPairs: Int
    public var correctPairs: Int
    /// Records scored (those the truth file names).
    public var records: Int

    /// - parameters:
    ///   - clusters: record id → predicted cluster.
    ///   - truth: record id → true entity; records missing from either side are not scored.
    public static func evaluate(clusters: [String: String], truth: [String: String]) -> PairwiseScore {
        var byCluster: [String: Int] = [:], byEntity: [String: Int] = [:], byBoth: [String: Int] = [:]
        var n = 0
        for (record, c) in clusters {
            guard let e = truth[record] else { continue }
            n += 1
            byCluster[c, default: 0] += 1
            byEntity[e, default: 0] += 1
            byBoth[c + "\u{1F}" + e, default: 0] += 1
        }
        func pairs(_ d: [String: Int]) -> Int { d.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 } }
        let predicted = pairs(byCluster), actual = pairs(byEntity), correct = pairs(byBoth)
        let p = predicted == 0 ? 1 : Double(correct) / Double(predicted)
        let r = actual == 0 ? 1 : Double(correct) / Double(actual)
        let f = p + r == 0 ? 0 : 2 * p * r / (p + r)
        return PairwiseScore(precision: p, recall: r, f1: f, truePairs: actual, predictedPairs: predicted, correctPairs: correct, records: n)
    }

    /// Reads `truth.csv` (source,record_id,entity_id); rows with an empty record id are skipped.
    public static func loadTruth(_ url: URL) throws -> [String: String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var out: [String: String] = [:]
        for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() where i > 0 {
            let parts = line.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count >= 3, !parts[1].isEmpty else { continue }
            out["\(parts[0]):\(parts[1])"] = String(parts[2])
        }
        return out
    }
}
