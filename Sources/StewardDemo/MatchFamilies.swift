import Foundation

/// The matching evaluation suite's families of labelled person data, generated from a seed (not the
/// demo), each written as a Steward project with its truth: `steward-bench match --suite` runs and
/// scores them at full size, MatchFamiliesTests at a small one. The families are shaped after the
/// public record-linkage benchmarks (census-style records with typos, missing and swapped values), so
/// the matcher is measured on data it was not sized on. Nothing here is tuned to one seed: every rate
/// is a property of the family.

/// The demo's SplitMix64, one stream per family, so a seed names one dataset.
public struct SuiteRandom: Sendable {
    private var mix: SplitMix64
    public init(seed: UInt64, stream: UInt64) { mix = SplitMix64(state: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15)) }
    public mutating func next() -> UInt64 { mix.next() }
    /// Uniform in `0..<n` (n > 0).
    public mutating func int(_ n: Int) -> Int { Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high) }
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) * 0x1.0p-53 < p }
    public mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
    /// An index drawn with the given relative weights.
    public mutating func weighted(_ weights: [Int]) -> Int {
        var r = int(weights.reduce(0, +))
        for (i, w) in weights.enumerated() { if r < w { return i }; r -= w }
        return weights.count - 1
    }
}

/// One true person as the generator knows them, before any record is garbled.
public struct SuitePerson: Sendable {
    public var first: String, last: String
    public var year: Int, month: Int, day: Int
    public var streetNumber: Int, street: String, city: String, state: String, zip: String
    public var phone: String, email: String, nationalId: String
    public var household: Int?, twin: Bool = false
}

/// One source record of a person, as written to a CSV file.
public struct SuiteRecord: Sendable {
    public var key: String, person: Int
    public var first: String, last: String, dob: String, address: String, city: String, state: String, zip: String
    public var phone: String, email: String, nationalId: String
    /// The junk value this record was given (`field=value`), if any: to tell whether junk joined people.
    public var junk: String?
}

/// How one family garbles the records it writes (probabilities per record).
public struct SuiteNoise: Sendable {
    public var nameTypo = 0.0, missing = 0.0, swapNames = 0.0, swapDayMonth = 0.0, idTypo = 0.0, zipTypo = 0.0, streetTypo = 0.0
    public var withEmail = 0.0, withPhone = 0.0, withNationalId = 1.0

    public static let none = SuiteNoise()
}

public enum SuitePools {
    public static let firstNames = """
        james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan joseph \
        jessica thomas sarah charles karen christopher nancy daniel lisa matthew betty anthony margaret mark sandra \
        donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth dorothy kevin carol brian amanda \
        george melissa timothy deborah ronald stephanie edward rebecca jason sharon jeffrey laura ryan cynthia jacob \
        kathleen gary amy nicholas angela eric shirley jonathan anna stephen brenda larry pamela justin emma scott \
        nicole brandon helen benjamin samantha samuel katherine gregory christine alexander debra frank rachel \
        patrick carolyn raymond janet jack catherine dennis maria jerry heather tyler diane aaron ruth jose julie
        """.split(separator: " ").map(String.init)
    public static let lastNames = """
        smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson \
        anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis \
        robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera \
        campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart \
        morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim \
        cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo \
        sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell coleman butler \
        henderson barnes gonzales fisher vasquez simmons romero jordan patterson alexander hamilton graham reynolds \
        griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford \
        castro marshall owens harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman
        """.split(separator: " ").map(String.init)
    public static let streets = """
        main oak pine maple cedar elm washington lake hill park walnut spring north ridge church willow mill sunset \
        highland jackson river franklin center chestnut lincoln meadow forest jefferson madison adams valley hickory
        """.split(separator: " ").map { "\($0) " } .flatMap { s in ["st", "ave", "rd", "dr", "ln"].map { s + $0 } }
    /// (city, state, first three digits of its ZIP codes, area code).
    public static let cities: [(String, String, String, String)] = [
        ("springfield", "IL", "627", "217"), ("columbus", "OH", "432", "614"), ("austin", "TX", "787", "512"),
        ("denver", "CO", "802", "303"), ("portland", "OR", "972", "503"), ("madison", "WI", "537", "608"),
        ("raleigh", "NC", "276", "919"), ("albany", "NY", "122", "518"), ("tucson", "AZ", "857", "520"),
        ("omaha", "NE", "681", "402"), ("richmond", "VA", "232", "804"), ("boise", "ID", "837", "208"),
        ("salem", "MA", "019", "978"), ("dayton", "OH", "454", "937"), ("fresno", "CA", "937", "559"),
        ("tampa", "FL", "336", "813"), ("reno", "NV", "895", "775"), ("lansing", "MI", "489", "517"),
    ]
    public static let domains = ["gmail.com", "yahoo.com", "outlook.com", "aol.com", "icloud.com", "proton.me"]
}

/// The generators and the runner of the suite's families.
public struct MatchFamilies: Sendable {
    public var seed: UInt64
    public var scale: Double

    public init(seed: UInt64, scale: Double) {
        self.seed = seed
        self.scale = scale
    }

    public func scaled(_ n: Int) -> Int { max(10, Int((Double(n) * scale).rounded())) }

    // MARK: people

    public func newPerson(_ rng: inout SuiteRandom, serial: Int) -> SuitePerson {
        let (city, state, zip3, area) = rng.pick(SuitePools.cities)
        let first = rng.pick(SuitePools.firstNames), last = rng.pick(SuitePools.lastNames)
        // SSN-shaped and unique per person: area 001–665 (never 000 or 666), the serial makes it unique.
        let nationalId = String(format: "%03d%06d", 1 + rng.int(665), (serial * 7919 + rng.int(7919)) % 1_000_000)
        return SuitePerson(
            first: first, last: last, year: 1940 + rng.int(66), month: 1 + rng.int(12), day: 1 + rng.int(28),
            streetNumber: 1 + rng.int(9_999), street: rng.pick(SuitePools.streets), city: city, state: state,
            zip: zip3 + String(format: "%02d", rng.int(100)),
            phone: "\(area)-\(200 + rng.int(800))-\(String(format: "%04d", rng.int(10_000)))",
            email: "\(first).\(last)\(rng.int(1_000))@\(rng.pick(SuitePools.domains))", nationalId: nationalId)
    }

    /// One typo of the kinds keyed data has: a substituted, dropped, doubled or transposed letter.
    public func typo(_ s: String, _ rng: inout SuiteRandom) -> String {
        var c = Array(s)
        guard c.count > 2 else { return s }
        let i = 1 + rng.int(c.count - 2)
        switch rng.int(4) {
        case 0: c[i] = Character(UnicodeScalar(UInt8(97 + rng.int(26))))
        case 1: c.remove(at: i)
        case 2: c.insert(c[i], at: i)
        default: c.swapAt(i, i - 1 + (i + 1 < c.count ? 2 : 0))
        }
        return String(c)
    }

    public func digitTypo(_ s: String, _ rng: inout SuiteRandom) -> String {
        var c = Array(s)
        let digits = c.indices.filter { c[$0].isNumber }
        guard let i = digits.isEmpty ? nil : digits[rng.int(digits.count)] else { return s }
        c[i] = Character(String(rng.int(10)))
        return String(c)
    }

    public func record(_ p: SuitePerson, person: Int, key: String, _ noise: SuiteNoise, _ rng: inout SuiteRandom) -> SuiteRecord {
        var first = p.first, last = p.last
        var month = p.month, day = p.day
        if rng.chance(noise.nameTypo) { first = typo(first, &rng) }
        if rng.chance(noise.nameTypo) { last = typo(last, &rng) }
        if rng.chance(noise.swapNames) { swap(&first, &last) }
        if day <= 12, rng.chance(noise.swapDayMonth) { swap(&month, &day) }
        var street = p.street
        if rng.chance(noise.streetTypo) { street = typo(street, &rng) }
        var zip = p.zip
        if rng.chance(noise.zipTypo) { zip = digitTypo(zip, &rng) }
        var nationalId = rng.chance(noise.withNationalId) ? p.nationalId : ""
        if !nationalId.isEmpty, rng.chance(noise.idTypo) { nationalId = digitTypo(nationalId, &rng) }
        var r = SuiteRecord(
            key: key, person: person, first: first, last: last, dob: String(format: "%04d-%02d-%02d", p.year, month, day),
            address: "\(p.streetNumber) \(street)", city: p.city, state: p.state, zip: zip,
            phone: rng.chance(noise.withPhone) ? p.phone : "", email: rng.chance(noise.withEmail) ? p.email : "",
            nationalId: nationalId)
        // Each field may be missing on its own (never all at once: a record keeps its last name).
        if rng.chance(noise.missing) { r.first = "" }
        if rng.chance(noise.missing) { r.dob = "" }
        if rng.chance(noise.missing) { r.address = "" }
        if rng.chance(noise.missing) { r.city = "" }
        if rng.chance(noise.missing) { r.zip = "" }
        return r
    }

    // MARK: families

    /// 1: heavy duplicates. Census-style: skewed 1–9 records per person, no email or phone.
    public func heavyDuplicates() -> (sources: [String: [SuiteRecord]], people: [SuitePerson]) {
        var rng = SuiteRandom(seed: seed, stream: 1)
        let noise = SuiteNoise(nameTypo: 0.15, missing: 0.06, swapNames: 0.05, swapDayMonth: 0.08, idTypo: 0.05,
                               zipTypo: 0.05, streetTypo: 0.1, withEmail: 0, withPhone: 0, withNationalId: 0.85)
        // Skewed: most people have one or two records, a few have up to nine.
        let weights = [32, 22, 14, 10, 7, 6, 4, 3, 2]
        var people: [SuitePerson] = [], records: [SuiteRecord] = []
        for i in 0..<scaled(2_000) {
            let p = newPerson(&rng, serial: i)
            people.append(p)
            for _ in 0...rng.weighted(weights) {
                records.append(record(p, person: i, key: "r\(records.count + 1)", noise, &rng))
            }
        }
        return (["census": shuffled(records, &rng)], people)
    }

    /// 2: two-file linkage, one-to-one: every person once in each file, the second file noisier.
    public func twoFileLinkage() -> (sources: [String: [SuiteRecord]], people: [SuitePerson]) {
        var rng = SuiteRandom(seed: seed, stream: 2)
        let light = SuiteNoise(nameTypo: 0.03, missing: 0.02, idTypo: 0.01, withNationalId: 0.95)
        let heavy = SuiteNoise(nameTypo: 0.2, missing: 0.08, swapNames: 0.05, swapDayMonth: 0.08, idTypo: 0.08,
                               zipTypo: 0.08, streetTypo: 0.12, withNationalId: 0.85)
        var people: [SuitePerson] = [], a: [SuiteRecord] = [], b: [SuiteRecord] = []
        for i in 0..<scaled(5_000) {
            let p = newPerson(&rng, serial: i)
            people.append(p)
            a.append(record(p, person: i, key: "a\(i + 1)", light, &rng))
            b.append(record(p, person: i, key: "b\(i + 1)", heavy, &rng))
        }
        return (["file_a": shuffled(a, &rng), "file_b": shuffled(b, &rng)], people)
    }

    /// 3: households (same address, landline and surname; own first name and birth date) with twins
    /// (also the same birth date). Members must stay apart; each member's own records must join.
    public func households() -> (sources: [String: [SuiteRecord]], people: [SuitePerson]) {
        var rng = SuiteRandom(seed: seed, stream: 3)
        let noise = SuiteNoise(nameTypo: 0.05, missing: 0.04, swapDayMonth: 0.03, idTypo: 0.02, zipTypo: 0.02,
                               streetTypo: 0.05, withEmail: 0.4, withPhone: 0.8, withNationalId: 0.5)
        var people: [SuitePerson] = [], records: [SuiteRecord] = []
        for h in 0..<scaled(700) {
            let head = newPerson(&rng, serial: people.count)
            var members: [SuitePerson] = []
            let adults = 1 + rng.int(2), children = rng.int(4)
            var usedFirst: Set<String> = []
            for m in 0..<(adults + children) {
                var p = m == 0 ? head : newPerson(&rng, serial: people.count + m)
                while usedFirst.contains(p.first) { p.first = rng.pick(SuitePools.firstNames) }
                usedFirst.insert(p.first)
                (p.last, p.streetNumber, p.street, p.city, p.state, p.zip, p.phone) =
                    (head.last, head.streetNumber, head.street, head.city, head.state, head.zip, head.phone)
                p.email = "\(p.first).\(p.last)\(rng.int(1_000))@\(rng.pick(SuitePools.domains))"
                p.year = m < adults ? 1950 + rng.int(36) : 1990 + rng.int(26)
                p.household = h
                members.append(p)
            }
            // Twins: two children with one birth date.
            if children >= 2, rng.chance(0.3) {
                let twin = adults
                (members[twin + 1].year, members[twin + 1].month, members[twin + 1].day) = (members[twin].year, members[twin].month, members[twin].day)
                members[twin].twin = true; members[twin + 1].twin = true
            }
            for p in members {
                let i = people.count
                people.append(p)
                for _ in 0...rng.weighted([50, 35, 15]) {
                    records.append(record(p, person: i, key: "h\(records.count + 1)", noise, &rng))
                }
            }
        }
        return (["residents": shuffled(records, &rng)], people)
    }

    /// 4: placeholders and common names: 2 % of records carry a junk national id, email or phone, and
    /// a fifth of the people share a handful of very common names. Junk must never join two people.
    public func placeholders() -> (sources: [String: [SuiteRecord]], people: [SuitePerson]) {
        var rng = SuiteRandom(seed: seed, stream: 4)
        let noise = SuiteNoise(nameTypo: 0.08, missing: 0.05, swapDayMonth: 0.04, idTypo: 0.03, zipTypo: 0.03,
                               streetTypo: 0.05, withEmail: 0.7, withPhone: 0.7, withNationalId: 0.6)
        let common = [("john", "smith"), ("mary", "johnson"), ("james", "williams"), ("maria", "garcia"), ("david", "brown")]
        let junkIds = ["000-00-0000", "123456789", "999999999", "111-11-1111"]
        let junkEmails = ["test@test.com", "none@none.com", "n/a", "noemail@example.com"]
        let junkPhones = ["000-000-0000", "555-555-5555", "111-111-1111", "999-999-9999"]
        var people: [SuitePerson] = [], records: [SuiteRecord] = []
        for i in 0..<scaled(5_000) {
            var p = newPerson(&rng, serial: i)
            if rng.chance(0.2) { (p.first, p.last) = rng.pick(common); p.email = "\(p.first).\(p.last)\(rng.int(10_000))@\(rng.pick(SuitePools.domains))" }
            people.append(p)
            for _ in 0...rng.weighted([45, 30, 15, 10]) {
                var r = record(p, person: i, key: "j\(records.count + 1)", noise, &rng)
                if rng.chance(0.02) {
                    switch rng.int(3) {
                    case 0: r.nationalId = rng.pick(junkIds); r.junk = "national_id=\(r.nationalId)"
                    case 1: r.email = rng.pick(junkEmails); r.junk = "email=\(r.email)"
                    default: r.phone = rng.pick(junkPhones); r.junk = "phone=\(r.phone)"
                    }
                }
                records.append(r)
            }
        }
        return (["registrations": shuffled(records, &rng)], people)
    }

    /// 5: several systems like the demo's (each keeps its own fields), with skewed cluster sizes: a
    /// person is in each system with its own probability, and up to five times in one.
    public func multiSource() -> (sources: [String: [SuiteRecord]], people: [SuitePerson]) {
        multiSource(stream: 5, people: scaled(3_000), compoundSurnames: 0)
    }

    /// 6: the 1 M scale run: family 5's systems and skew with 311,000 people at scale 1 (about
    /// 1,000,000 records). Surnames are as varied as a nation's: half of them are two of the pool's
    /// joined ("garcia-lopez"), so at this size a full name is about as rare as in real data (with 200
    /// surnames alone, every name would be held by fifteen people).
    public func scaleRun() -> (sources: [String: [SuiteRecord]], people: [SuitePerson]) {
        multiSource(stream: 6, people: scaled(311_000), compoundSurnames: 0.5)
    }

    func multiSource(stream: UInt64, people count: Int, compoundSurnames: Double) -> (sources: [String: [SuiteRecord]], people: [SuitePerson]) {
        var rng = SuiteRandom(seed: seed, stream: stream)
        let noise = SuiteNoise(nameTypo: 0.08, missing: 0.05, swapNames: 0.02, swapDayMonth: 0.04, idTypo: 0.03,
                               zipTypo: 0.03, streetTypo: 0.06, withEmail: 0.9, withPhone: 0.8, withNationalId: 0.9)
        // (source, share of people in it, fields it does not hold).
        let systems: [(String, Double, (inout SuiteRecord) -> Void)] = [
            ("crm", 0.8, { $0.email = "" }),
            ("ecommerce", 0.6, { $0.dob = ""; $0.nationalId = "" }),
            ("marketing", 0.4, { $0.dob = ""; $0.nationalId = ""; $0.address = ""; $0.city = ""; $0.phone = "" }),
        ]
        var people: [SuitePerson] = [], sources: [String: [SuiteRecord]] = [:]
        for i in 0..<count {
            var p = newPerson(&rng, serial: i)
            if compoundSurnames > 0, rng.chance(compoundSurnames) {
                p.last += "-" + rng.pick(SuitePools.lastNames)
                p.email = "\(p.first).\(p.last)\(rng.int(1_000))@\(rng.pick(SuitePools.domains))"
            }
            people.append(p)
            var present = systems.indices.filter { rng.chance(systems[$0].1) }
            if present.isEmpty { present = [rng.int(systems.count)] }
            for s in present {
                let (source, _, drop) = systems[s]
                for _ in 0...rng.weighted([60, 20, 10, 6, 4]) {
                    var r = record(p, person: i, key: "\(source.prefix(1))\(sources[source, default: []].count + 1)", noise, &rng)
                    drop(&r)
                    sources[source, default: []].append(r)
                }
            }
        }
        for (k, v) in sources { sources[k] = shuffled(v, &rng) }
        return (sources, people)
    }

    public func shuffled(_ xs: [SuiteRecord], _ rng: inout SuiteRandom) -> [SuiteRecord] {
        var xs = xs
        for i in stride(from: xs.count - 1, to: 0, by: -1) { xs.swapAt(i, rng.int(i + 1)) }
        return xs
    }

    // MARK: projects

    public static let header = "id,given_name,surname,birth_date,address,city,state,zip,phone,email,ssn"

    /// Writes `steward.yml`, one CSV per source and `truth.csv` (the shape `steward init --demo` writes).
    public func write(_ sources: [String: [SuiteRecord]], name: String, to dir: URL) throws {
        let fm = FileManager.default
        try? fm.removeItem(at: dir)
        try fm.createDirectory(at: dir.appendingPathComponent("sources"), withIntermediateDirectories: true)
        var yml = """
            # Generated by `steward-bench match --suite` (family \(name), seed \(seed), scale \(scale)).
            name: suite-\(name)
            catalog: .steward/catalog.sqlite
            default_region: US
            truth: truth.csv
            privacy: {vault: false}

            sources:

            """
        var truth = "source,record_id,entity_id\n"
        for (source, records) in sources.sorted(by: { $0.key < $1.key }) {
            yml += """
                  - name: \(source)
                    system: \(source)
                    entity: person
                    format: csv
                    path: sources/\(source).csv
                    key: id
                    snapshot: full
                    date_formats: ["%Y-%m-%d"]
                    mapping:
                      first_name: given_name
                      last_name: surname
                      dob: birth_date
                      street: address
                      city: city
                      region: state
                      postcode: zip
                      phone: phone
                      email: email
                      national_id: ssn

                """
            var csv = Self.header + "\n"
            for r in records {
                csv += Self.csvLine([r.key, r.first, r.last, r.dob, r.address, r.city, r.state, r.zip, r.phone, r.email, r.nationalId]) + "\n"
                truth += "\(source),\(r.key),P\(r.person + 1)\n"
            }
            try csv.write(to: dir.appendingPathComponent("sources/\(source).csv"), atomically: true, encoding: .utf8)
        }
        try yml.write(to: dir.appendingPathComponent("steward.yml"), atomically: true, encoding: .utf8)
        try truth.write(to: dir.appendingPathComponent("truth.csv"), atomically: true, encoding: .utf8)
    }

    /// Family `number`'s name and generated data (1 to 6), nil for another number.
    public func family(_ number: Int) -> (name: String, sources: [String: [SuiteRecord]], people: [SuitePerson])? {
        let generated: (sources: [String: [SuiteRecord]], people: [SuitePerson])
        let name: String
        switch number {
        case 1: (name, generated) = ("heavy_duplicates", heavyDuplicates())
        case 2: (name, generated) = ("two_file_linkage", twoFileLinkage())
        case 3: (name, generated) = ("households", households())
        case 4: (name, generated) = ("placeholders_common_names", placeholders())
        case 5: (name, generated) = ("multi_source_skewed", multiSource())
        case 6: (name, generated) = ("scale_1m", scaleRun())
        default: return nil
        }
        return (name, generated.sources, generated.people)
    }

    /// A CSV line, a field quoted (RFC 4180) only when it holds a comma, a quote or a line break.
    static func csvLine(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: ",")
    }
}
