import Foundation
import Testing
@testable import StewardIdentity
@testable import StewardPipeline

@Suite struct IdentityMatchingTests {
    /// Labelled vectors drawn from known m and u: EM (u fixed) must recover m and λ.
    @Test func emConvergesOnALabelledSet() {
        var rng = SplitMix(seed: 3)
        func draw(_ dist: [Double]) -> Int8 {
            let x = Double(rng.next() % 1_000_000) / 1_000_000
            var acc = 0.0
            for (i, p) in dist.enumerated() { acc += p; if x < acc { return Int8(i) } }
            return Int8(dist.count - 1)
        }
        var truthM = FSModel.initial().m, truthU = FSModel.initial().u
        for f in Field.allCases {
            let n = f.levels.count
            truthM[f.rawValue] = (0..<n).map { $0 == n - 1 ? 0.85 : 0.15 / Double(n - 1) }
            truthU[f.rawValue] = (0..<n).map { $0 == 0 ? 0.9 : 0.1 / Double(n - 1) }
        }
        var counts: [PackedVector: Int] = [:]
        let matches = 2_000, nonMatches = 8_000
        for k in 0..<(matches + nonMatches) {
            let dist = k < matches ? truthM : truthU
            let v = ComparisonVector(levels: Field.allCases.map { draw(dist[$0.rawValue]) })
            counts[PackedVector(v), default: 0] += 1
        }
        var model = FSModel.initial()
        model.u = truthU
        model.estimateM(counts.map { ($0.key.unpacked, $0.value) }, maxIterations: 200)
        #expect(model.converged)
        #expect(abs(model.lambda - 0.2) < 0.02)
        for f in Field.allCases {
            let top = f.levels.count - 1
            #expect(abs(model.m[f.rawValue][top] - 0.85) < 0.03, "m of \(f.name)")
        }
    }

    static let nick = Nicknames.load(from: ReferenceData.locateDataDirectory())

    static func person(_ key: String, _ first: String, _ last: String, email: String? = nil, phone: String? = nil,
                       dob: String? = nil, postcode: String? = nil, city: String? = nil, source: String = "s") -> PersonRecord {
        PersonRecord(source: source, key: key, firstName: first, lastName: last, email: email, phone: phone, dob: dob,
                     city: city, postcode: postcode, nicknames: nick)
    }

    @Test func defaultBlockingFindsNoisyTruePairs() {
        // Pairs of one person each, with one kind of noise; then unrelated fillers.
        let pairs: [(PersonRecord, PersonRecord)] = [
            (Self.person("a1", "Robert", "Johnson", dob: "1970-01-02", postcode: "10001"), Self.person("a2", "Bob", "Jonson", dob: "1970-01-02", source: "t")),
            (Self.person("b1", "Mary", "Smith", email: "mary@x.com"), Self.person("b2", "Marie", "Smyth", email: "mary@x.com", source: "t")),
            (Self.person("c1", "Ann", "Lee", phone: "+15550001111"), Self.person("c2", "Lee", "Ann", phone: "+15550001111", source: "t")),
            (Self.person("d1", "Liz", "Taylor", dob: "1980-03-07", postcode: "02139"), Self.person("d2", "Elizabeth", "Tailor", dob: "1980-07-03", postcode: "02139")),
            (Self.person("e1", "James", "Brown", city: "Boston"), Self.person("e2", "Jim", "Browne", city: "Boston", source: "t")),
        ]
        var records: [PersonRecord] = []
        for (a, b) in pairs { records.append(a); records.append(b) }
        for i in 0..<50 { records.append(Self.person("f\(i)", "Filler\(i)", "Person\(i)", dob: "1990-01-\(10 + i % 18)")) }
        let cands = Set(CandidatePairs.generate(records, rules: BlockingRule.defaults, junk: []).pairs)
        var found = 0
        for k in 0..<pairs.count where cands.contains(UInt64(2 * k) << 32 | UInt64(2 * k + 1)) { found += 1 }
        // Recall 4/5 at least: the swapped-name pair shares only a phone, which is a blocking rule too.
        #expect(found == pairs.count)
        #expect(cands.count < records.count * (records.count - 1) / 2 / 10)
    }

    /// `n` people who share one common name (one oversized block of the name rule), each with their
    /// own email, phone and birth date.
    static func namesakes(_ n: Int) -> [PersonRecord] {
        (0..<n).map { i in
            Self.person("n\(i)", "James", "Smith", email: "james.smith\(100 + i)@mail.com",
                        phone: "+1555\(1_000_000 + i * 7_919 % 9_000_000)",
                        dob: "\(1940 + i % 60)-\(String(format: "%02d", 1 + i / 60 % 12))-10")
        }
    }

    /// A block far over the cap (a common name) is compared in sorted neighbourhoods: the true pairs
    /// in it that only this block holds (an email with a typo in its first letters, a birth date a
    /// day off) are still candidates, and the pairs grow with the block, not with its square.
    @Test func oversizedBlocksKeepTheirTruePairsWithLinearPairs() {
        var records = Self.namesakes(400)
        let typoA = records.count
        records.append(Self.person("t1", "James", "Smith", email: "james.smith.pilot@mail.com"))
        records.append(Self.person("t2", "James", "Smith", email: "jmaes.smith.pilot@mail.com", source: "t"))
        let dobA = records.count
        records.append(Self.person("d1", "James", "Smith", dob: "1975-05-21"))
        records.append(Self.person("d2", "Jim", "Smith", dob: "1975-05-22", source: "t"))
        let c = CandidatePairs.generate(records, rules: BlockingRule.defaults, junk: [])
        let pairs = Set(c.pairs)
        #expect(c.windowedBlocks >= 1)
        #expect(pairs.contains(UInt64(typoA) << 32 | UInt64(typoA + 1)), "email typo near the start: found backwards")
        #expect(pairs.contains(UInt64(dobA) << 32 | UInt64(dobA + 1)), "birth date a day off: found in date order")
        // All pairs would be 81,406; the neighbourhoods give a few per record.
        #expect(c.pairs.count <= records.count * 5)
        // Twice the namesakes, about twice the pairs (all pairs: four times).
        let double = CandidatePairs.generate(Self.namesakes(800), rules: BlockingRule.defaults, junk: [])
        let single = CandidatePairs.generate(Self.namesakes(400), rules: BlockingRule.defaults, junk: [])
        #expect(single.pairs.count > 400)
        #expect(Double(double.pairs.count) <= 2.2 * Double(single.pairs.count))
        // Deterministic: the same records give the same pairs.
        #expect(CandidatePairs.generate(records, rules: BlockingRule.defaults, junk: []).pairs == c.pairs)
    }

    @Test func blocksUpToTheCapYieldAllTheirPairs() {
        let cap = CandidatePairs.defaultMaxBlockSize
        let block = (0..<cap).map { Self.person("a\($0)", "Ann", "Lee", email: "ann\($0)@x.com") }
        let rule = [BlockingRule(keys: [.firstCanonical, .lastPhonetic])]
        #expect(CandidatePairs.generate(block, rules: rule, junk: []).pairs.count == cap * (cap - 1) / 2)
        // One more record: sorted neighbourhoods (here by email, forwards and backwards) instead.
        let over = block + [Self.person("a\(cap)", "Ann", "Lee", email: "ann\(cap)@x.com")]
        let windowed = CandidatePairs.generate(over, rules: rule, junk: [])
        #expect(windowed.windowedBlocks == 1)
        #expect(windowed.pairs.count <= 2 * cap)
    }

    /// Pairs are compared and scored on every core: the same records give the same model, edges and
    /// customers on every run, and the same as a one-slice run would.
    @Test func parallelMatchingIsDeterministic() {
        // Namesakes in oversized blocks, each with a duplicate carrying a typo: thousands of pairs.
        var records: [PersonRecord] = []
        for i in 0..<1_500 {
            let first = ["James", "Mary", "John"][i % 3], last = ["Smith", "Jones"][i % 2]
            let email = "\(first.lowercased()).\(last.lowercased()).\(["pilot", "baker", "miller", "cook", "smith"][i % 5])\(i)@mail.com"
            let dob = "\(1940 + i % 60)-\(String(format: "%02d", 1 + i / 60 % 12))-\(String(format: "%02d", 1 + i % 28))"
            records.append(Self.person("a\(i)", first, last, email: email, dob: dob, postcode: "\(10_000 + i % 50)"))
            if i % 2 == 0 {
                records.append(Self.person("b\(i)", first, last, email: email, dob: dob, postcode: "\(10_000 + i % 50)", source: "t"))
            }
        }
        var settings = MatchSettings()
        settings.uSamples = 20_000
        let matcher = Matcher(settings: settings, nicknames: Self.nick)
        let first = matcher.run(records), second = matcher.run(records)
        #expect(first.candidatePairs >= 4_096, "enough pairs for several slices")
        #expect(Matcher.slices(first.candidatePairs) == min(ProcessInfo.processInfo.activeProcessorCount, 8))
        #expect(first.labels == second.labels)
        #expect(first.edges.map { [$0.a, $0.b] } == second.edges.map { [$0.a, $0.b] })
        #expect(first.edges.map(\.probability) == second.edges.map(\.probability))
        // Slices cover every pair exactly once, in order.
        for slices in 1...4 {
            let ranges = (0..<slices).map { Matcher.range($0, of: slices, 10_001) }
            #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == 10_001)
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        }
    }

    /// Loaded records hold one copy of a repeated value (the memory of a million records), however
    /// it was written.
    @Test func repeatedValuesShareOneCopy() {
        var codes = PersonRecord.PhoneticCodes()
        func person(_ key: String, _ first: String, _ email: String, _ city: String) -> PersonRecord {
            PersonRecord(source: "s", key: key, firstName: first, lastName: "Lee", fullName: nil, email: email, phone: nil, dob: "1970-01-02",
                         street: nil, city: city, postcode: "10001", nationalId: nil, nicknames: Nicknames(pairs: []), codes: &codes)
        }
        let a = person("1", "Ann", "ann@x.com", "Boston"), b = person("2", "ANN", "ann.lee@y.com", "BOSTON")
        func storage(_ v: [UInt8]) -> UnsafeRawPointer? { v.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
        for (x, y) in [(a.first, b.first), (a.last, b.last), (a.dob, b.dob), (a.city, b.city), (a.postcode, b.postcode),
                       (a.firstPhonetic, b.firstPhonetic), (a.lastPhonetic, b.lastPhonetic), (a.firstCanonical, b.firstCanonical)] {
            #expect(!x.isEmpty && x == y && storage(x) == storage(y))
        }
        #expect(a.email == Array("ann@x.com".utf8) && b.email == Array("ann.lee@y.com".utf8))
    }

    @Test func blockingRulesParseAndRejectUnknownKeys() throws {
        let r = try BlockingRule.parse(["email", "last_name & dob"])
        #expect(r.map(\.description) == ["email", "last_name & dob"])
        #expect(throws: BlockingRuleError.self) { try BlockingRule.parse(["surname & dob"]) }
    }

    /// Two people who share a common name, each with two records; one strong-looking edge between
    /// them. Single-link clustering chains them into one customer; the guard keeps them apart.
    @Test func clusteringResistsAChainingTrap() {
        let edges: [Clusterer.Edge] = [
            .init(a: 0, b: 1, probability: 0.99), .init(a: 2, b: 3, probability: 0.99), .init(a: 1, b: 2, probability: 0.93),
        ]
        let cross: (Int, Int) -> Double = { i, j in
            let same = (i < 2) == (j < 2)
            if same { return 0.99 }
            return (i == 1 && j == 2) || (i == 2 && j == 1) ? 0.93 : 0.01
        }
        let guarded = Clusterer(threshold: 0.9).cluster(count: 4, edges: edges, probability: cross)
        #expect(guarded.labels == [0, 0, 2, 2])
        #expect(guarded.refused.count == 1)
        let naive = Clusterer(threshold: 0.9, groupAgreement: 0).cluster(count: 4, edges: edges, probability: cross)
        #expect(naive.labels == [0, 0, 0, 0])
        // A steward's reject keeps two records apart even on a certain edge.
        let rejected = Clusterer(threshold: 0.9).cluster(count: 2, edges: [.init(a: 0, b: 1, probability: 0.999)],
                                                         cannotLink: [Clusterer.pairKey(0, 1)]) { _, _ in 1 }
        #expect(rejected.labels == [0, 1])
    }

    @Test func stableIdsAcrossASecondBatch() {
        let first = StableIdAssigner.assign(labels: [0, 0, 2, 3], previous: [nil, nil, nil, nil], nextNumber: 1)
        #expect(first.ids == ["C00000001", "C00000001", "C00000002", "C00000003"])
        #expect(first.events.filter { $0.kind == .create }.count == 3)
        // Batch two: a new record joins customer 1; records of customers 2 and 3 turn out to be one person.
        let second = StableIdAssigner.assign(labels: [0, 0, 2, 2, 0], previous: first.ids + [nil], nextNumber: first.nextNumber)
        #expect(second.ids[0] == "C00000001" && second.ids[4] == "C00000001")
        #expect(second.ids[2] == "C00000002" && second.ids[3] == "C00000002")
        #expect(second.mergedInto == ["C00000003": "C00000002"])
        #expect(second.events.contains { $0.kind == .merge && $0.customerId == "C00000002" && $0.other == "C00000003" })
        #expect(second.events.contains { $0.kind == .join && $0.customerId == "C00000001" })
        // Batch three: customer 2 splits; the larger part keeps the id, the other gets a new one.
        let third = StableIdAssigner.assign(labels: [0, 0, 2, 3, 0], previous: second.ids, nextNumber: second.nextNumber)
        #expect(third.ids[2] == "C00000002")
        #expect(third.ids[3] == "C00000004")
        #expect(third.events.contains { $0.kind == .split && $0.customerId == "C00000004" && $0.other == "C00000002" })
    }

    @Test func pairwiseScoreCountsPairs() {
        let s = PairwiseScore.evaluate(clusters: ["a": "1", "b": "1", "c": "1", "d": "2"],
                                       truth: ["a": "x", "b": "x", "c": "y", "d": "y"])
        #expect(s.predictedPairs == 3 && s.truePairs == 2 && s.correctPairs == 1)
        #expect(abs(s.f1 - 0.4) < 1e-9)
    }
}
