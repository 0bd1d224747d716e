import Foundation

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
            guard levels[Field.address.rawValue] >= Field.AddressLevel.house, levels[Field.firstName.rawValue] == 0, levels[Field.phone.rawValue] >= 0 else { continue }
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
        // Scored on every core into per-pair probabilities, then collected in pair order.
        var probabilities = [Double](repeating: 0, count: pairs.count)
        let packed = vectors
        func score(_ frequencies: TermFrequencies) {
            let weights = PairWeights(model: model, frequencies: frequencies, records: records.count)
            probabilities.withUnsafeMutableBufferPointer { buffer in
                let out = SlicedOutput(buffer), slices = Self.slices(pairs.count)
                DispatchQueue.concurrentPerform(iterations: slices) { slice in
                    for k in Self.range(slice, of: slices, pairs.count) {
                        out[k] = FSModel.probability(weight: weights.weight(packed[k], Int(pairs[k] >> 32)))
                    }
                }
            }
        }
        // Names' frequencies among people, not records: scored first with every record counted, then
        // again with each group of records those scores join counted once (`TermFrequencies.init(_:groups:)`).
        score(TermFrequencies(records))
        let frequencies = TermFrequencies(records, groups: Self.provisionalGroups(count: records.count, pairs: pairs, probabilities: probabilities,
                                                                                  threshold: settings.threshold, maxSize: settings.maxClusterSize))
        score(frequencies)
        let scorer = Scorer(model: model, comparator: comparator, frequencies: frequencies)
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
            holdBetweenTwoPeople(&edges, view, count: records.count, comparator: comparator, junkMasks: junkMasks)
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
    /// Connected components over the pairs scored at or above `threshold` (union-find, no guard):
    /// the people the records are believed to be, for counting a name once per person. A component
    /// larger than one customer may be (a chain of weak links) is no person: its records count alone.
    static func provisionalGroups(count: Int, pairs: [UInt64], probabilities: [Double], threshold: Double, maxSize: Int) -> [Int32] {
        var parent = Array(0..<Int32(count))
        func root(_ x: Int32) -> Int32 {
            var x = x
            while parent[Int(x)] != x { parent[Int(x)] = parent[Int(parent[Int(x)])]; x = parent[Int(x)] }
            return x
        }
        for (k, p) in pairs.enumerated() where probabilities[k] >= threshold {
            let a = root(Int32(p >> 32)), b = root(Int32(p & 0xFFFF_FFFF))
            if a != b { parent[Int(max(a, b))] = min(a, b) }
        }
        var size = [Int32](repeating: 0, count: count)
        var labels = (0..<count).map { root(Int32($0)) }
        for l in labels { size[Int(l)] += 1 }
        for i in labels.indices where Int(size[Int(labels[i])]) > maxSize { labels[i] = Int32(i) }
        return labels
    }

    /// A record strongly linked to two records that are two people (namesakes: birth dates or first
    /// names apart), about as strongly to each, could be either: a marketing record holding only
    /// "gregory lewis" and an email matches both Gregory Lewises by name alone. Its links to the two
    /// are held for review. When one link is far stronger (odds ten times higher: an email or
    /// a street agrees besides the name), the clusterer takes it and its guard keeps the other out.
    func holdBetweenTwoPeople(_ edges: inout [Clusterer.Edge], _ view: RecordView, count: Int, comparator: Comparator, junkMasks: [UInt8]) {
        // Strong edges by record, as index lists (CSR): the records with two or more are the ones to check.
        var degree = [Int32](repeating: 0, count: count + 1)
        for e in edges where e.probability >= settings.threshold { degree[Int(e.a) + 1] += 1; degree[Int(e.b) + 1] += 1 }
        for i in 1..<degree.count { degree[i] += degree[i - 1] }
        var fill = degree, linked = [Int32](repeating: 0, count: Int(degree[count]))
        for (k, e) in edges.enumerated() where e.probability >= settings.threshold {
            for r in [e.a, e.b] { linked[Int(fill[Int(r)])] = Int32(k); fill[Int(r)] += 1 }
        }
        func logit(_ p: Double) -> Double { log2(max(p, 1e-12) / max(1 - p, 1e-12)) }
        var held = Set<Int32>()
        for r in 0..<count where degree[r + 1] - degree[r] >= 2 {
            let mine = Array(linked[Int(degree[r])..<Int(degree[r + 1])].prefix(12))
            for i in mine.indices { for j in (i + 1)..<mine.count {
                let ex = edges[Int(mine[i])], ey = edges[Int(mine[j])]
                let x = Int(ex.a == Int32(r) ? ex.b : ex.a), y = Int(ey.a == Int32(r) ? ey.b : ey.a)
                guard abs(logit(ex.probability) - logit(ey.probability)) < log2(10) else { continue }
                if comparator.compare(view.pointer(x), view.pointer(y), junk: junkMasks[x] | junkMasks[y]).apart(view.pointer(x), view.pointer(y)) {
                    held.insert(mine[i]); held.insert(mine[j])
                }
            } }
        }
        for k in held { edges[Int(k)].probability = settings.threshold.nextDown }
    }

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
