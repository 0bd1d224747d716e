import Foundation

/// The demo's third-party data append (issue 20): a data vendor was sent the company's customer list
/// and returned, for the people it knows, household attributes the company's own systems lack
/// (`income`, `household_size`, `interest`), keyed by the e-mail address it was sent plus name and
/// postcode. It is a person source like the others, so its records join their customers by identity
/// resolution and `truth.csv` labels them; its extra columns are declared as typed traits.
///
/// What the vendor knows of a person is a pure function of the seed and the person (`attributes`),
/// so tests can compute each customer's true income, and who belongs in an audience over it, without
/// reading the file back.
public enum DemoVendor {
    public static let sourceName = "data_vendor"
    public static let file = "sources/vendor/data_append.csv"
    static let columns = ["match_id", "email", "first_name", "last_name", "postcode", "country", "income",
                          "household_size", "interest", "matched_at"]
    /// The vendor's lifestyle interests, most common first.
    public static let interests = ["travel", "cooking", "fitness", "gardening", "technology", "outdoors", "fashion",
                                   "home_improvement", "pets", "wine"]
    /// Share of the customers (people in the CRM or the shop) the vendor matched.
    static let coverage = 0.35
    /// The vendor's code for an unknown household size: outside the checked range, so the row fails
    /// an error check (the deliberate source-specific defect).
    static let unknownHousehold = 99

    public struct Attributes: Sendable, Equatable {
        /// Yearly household income in whole dollars; nil when the vendor has no estimate (blank cell).
        public var income: Int?
        public var householdSize: Int
        public var interest: String
    }

    /// What the vendor returns for person `index` (0-based, `P0000001` is index 0) of a demo.
    public static func attributes(person index: Int, seed: UInt64) -> Attributes {
        var h = SplitMix64(state: seed &* 0x5645_4E44_4F52_2020 ^ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        func unit() -> Double { Double(h.next() >> 11) * 0x1.0p-53 }
        // Log-normal around a median of $65k (about a fifth above $100k), to the nearest thousand.
        let u1 = max(unit(), 1e-12), u2 = unit()
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        let income = min(750, max(12, Int((65 * exp(0.62 * normal)).rounded()))) * 1000
        let known = unit() >= 0.08
        let sizes = [1, 2, 2, 2, 3, 3, 4, 4, 5, 6]
        let household = sizes[Int(unit() * Double(sizes.count))]
        let u = unit()
        let interest = interests[min(interests.count - 1, Int(u * u * Double(interests.count)))]
        return Attributes(income: known ? income : nil, householdSize: household, interest: interest)
    }

    /// Which people the vendor matched: customers (in the CRM or the shop), each with `coverage`
    /// odds drawn from its own stream.
    static func covered(_ pop: DemoPopulation, seed: UInt64) -> [Int] {
        var rng = DemoRNG(seed: seed, stream: 9)
        var out: [Int] = []
        for (i, p) in pop.people.enumerated() where p.systems & (DemoPerson.crm | DemoPerson.ecommerce) != 0 {
            if rng.chance(coverage) { out.append(i) }
        }
        return out
    }
}

extension DemoSourceWriter {
    // MARK: - Data vendor append (CSV)

    mutating func writeVendor() throws -> DemoSourceCounts {
        let people = DemoVendor.covered(pop, seed: seed)
        var rng = DemoRNG(seed: seed, stream: 10)
        let source: [UInt8] = Array(DemoVendor.sourceName.utf8)
        var counts = DemoCounts()
        var recent = DemoRecent()
        var out = try DemoFile(directory.appendingPathComponent(DemoVendor.file))
        out.out.put(DemoVendor.columns.joined(separator: ",")); out.out.byte(0x0A)
        var row = DemoCSVRow(delimiter: 0x2C)
        // The vendor returns its matches in the order of the list it was sent: by person.
        for (k, person) in people.enumerated() {
            let key = k + 1
            let defect = rng.defect(rates)
            vendorRow(person, key: defect == .missingKey ? nil : key, defect: defect, &row, &rng, &out.out)
            try addTruth(source, key: defect == .missingKey ? [] : vendorKey(key), person: person)
            counts.record(defect)
            if defect == .none || defect == .duplicateKey { recent.add(person: person, key: key) }
            if defect == .duplicateKey, let (dp, dk) = recent.pickEarlier(&rng) {
                vendorRow(dp, key: dk, defect: .none, &row, &rng, &out.out)
                try addTruth(source, key: vendorKey(dk), person: dp)
                counts.rows += 1
                counts.failing += 1
            }
            try out.flushIfNeeded()
        }
        try out.close()
        return counts.result(files: [DemoVendor.file])
    }

    private func vendorKey(_ n: Int) -> [UInt8] {
        var b = DemoBuffer(capacity: 12)
        b.put("VND"); b.padded(n, width: 7)
        return b.bytes
    }

    private mutating func vendorRow(_ pi: Int, key: Int?, defect: DemoDefect, _ row: inout DemoCSVRow,
                                    _ rng: inout DemoRNG, _ out: inout DemoBuffer) {
        let p = pop.people[pi]
        let truth = DemoVendor.attributes(person: pi, seed: seed)
        let ragged = defect == .malformed
        let extra = ragged && rng.chance(0.5)
        row.start(skip: ragged && !extra ? rng.range(1, DemoVendor.columns.count - 1) : -1)
        f.clear(); if let key { f.put(vendorKey(key)) }; row.add(f.bytes, &out)

        // The address it was sent, lower-cased by the vendor's match process.
        f.clear()
        pop.renderEmail(p.email, of: p, into: &f)
        DemoNoise.lowercase(&f.bytes, 0..<f.count)
        row.add(f.bytes, &out)

        // Names as the vendor's compiled file holds them: often in capitals, accents folded.
        let shouting = rng.chance(0.3)
        f.clear(); appendFirst(p, &f, nickname: false, folded: true, native: false, &rng)
        g.clear(); appendLast(p, &g, folded: true, native: false)
        if shouting { DemoNoise.uppercase(&f.bytes, 0..<f.count); DemoNoise.uppercase(&g.bytes, 0..<g.count) }
        row.add(f.bytes, &out); row.add(g.bytes, &out)

        // The current address (vendors refresh theirs); ZIP+4 now and then.
        let a = pop.addresses[Int(p.home)]
        f.clear(); pop.renderPostcode(a, into: &f)
        if a.country == 0, rng.chance(0.2) { f.byte(0x2D); f.padded(rng.int(10_000), width: 4) }
        row.add(f.bytes, &out)
        row.add(pop.pools.countryCodes[Int(p.country)], &out)

        // Income as exported: mostly plain dollars, sometimes "$85,000" (the trait reads both).
        f.clear()
        if let income = truth.income {
            if rng.chance(0.1) {
                f.byte(0x24); f.int(income / 1000); f.byte(0x2C); f.padded(income % 1000, width: 3)
            } else {
                f.int(income)
            }
        }
        row.add(f.bytes, &out)
        f.clear(); f.int(defect == .special ? DemoVendor.unknownHousehold : truth.householdSize); row.add(f.bytes, &out)
        row.add(Array(truth.interest.utf8), &out)
        f.clear(); f.date(Int32(rng.range(Int(DemoPopulation.lastDay) - 90, Int(DemoPopulation.lastDay))), .iso); row.add(f.bytes, &out)
        if extra { row.addExtra(&out) }
        out.byte(0x0A)
    }
}
