/// The true people behind the demo data, before any system has touched (and garbled) them.
struct DemoPerson {
    var country: UInt8 = 0          // index into DemoReference.countryCodes
    var female = false
    var eastAsian = false
    var junior = false              // shares first and last name with the previous member of the household
    var firstPool: UInt8 = 0
    var lastPool: UInt8 = 0
    var first: UInt16 = 0
    var last: UInt16 = 0
    var dob: Int32 = 0              // day number
    var since: Int32 = 0            // first contact with the company, day number
    var email = DemoEmail()
    var altEmail = DemoEmail()      // a second personal address (kind .none when absent)
    var workEmail = DemoEmail()     // kind .none when absent
    var phone: UInt64 = 0           // national significant number, 10 digits
    var phoneAreaLength: UInt8 = 3
    var ssn: UInt32 = 0             // US only: area * 1_000_000 + group * 10_000 + serial
    var home: Int32 = 0             // index into addresses
    var previousHome: Int32 = -1    // where a person who moved lived before
    var systems: UInt8 = 0          // DemoPerson.crm | .ecommerce | .marketing
    var crmDuplicate = false        // a second CRM record with another id
    var ecomDuplicate = false       // a second e-commerce account
    var hasEvents = false
    var tickets: UInt8 = 0

    static let crm: UInt8 = 1
    static let ecommerce: UInt8 = 2
    static let marketing: UInt8 = 4
}

struct DemoEmail {
    enum Kind: UInt8 { case none, personal, work }
    var kind = Kind.none
    var form: UInt8 = 0     // see DemoPopulation.renderEmail
    var domain: UInt8 = 0   // index into mailDomains (personal) or companies (work)
    var number: UInt16 = 0  // 0: none
}

struct DemoAddress {
    var country: UInt8
    var city: UInt16
    var street: UInt16
    var number: UInt16
    /// US: ZIP as an integer; DE: PLZ; GB: outward index * 10_000 + inward code.
    var postcode: UInt32
}

/// The whole population plus the byte-form reference lists every source writer renders from.
struct DemoPopulation {
    let pools: DemoPools
    var people: [DemoPerson] = []
    var addresses: [DemoAddress] = []

    static let firstDay = Int32(DemoCalendar.days(2019, 1, 1))
    static let lastDay = Int32(DemoCalendar.days(2024, 6, 30))
    private static let oldestBirth = DemoCalendar.days(1940, 1, 1)
    private static let youngestBirth = DemoCalendar.days(2005, 12, 31)

    init(customers n: Int, seed: UInt64) {
        pools = DemoPools.shared
        var rng = DemoRNG(seed: seed, stream: 1)
        var registry = DemoEmailRegistry()
        people.reserveCapacity(n)
        addresses.reserveCapacity(n + n / 8)
        for i in 0..<n {
            var p = DemoPerson()
            let previous = people.last
            if let prev = previous, !prev.eastAsian, rng.chance(0.12) {
                // Another member of the previous person's household: same address, usually same surname.
                p.country = prev.country
                p.home = prev.home
                p.lastPool = prev.lastPool
                p.last = rng.chance(0.85) ? prev.last : UInt16(rng.skewed(pools.last[Int(prev.lastPool)].count))
                p.female = rng.chance(0.5)
                if !prev.female, !p.female, p.last == prev.last, rng.chance(0.06) {
                    p.junior = true
                    p.firstPool = prev.firstPool
                    p.first = prev.first
                } else {
                    p.firstPool = UInt8(2 * Int(p.country) + (p.female ? 1 : 0))
                    p.first = UInt16(rng.skewed(pools.first[Int(p.firstPool)].count))
                }
                if rng.chance(0.25) {
                    p.phone = prev.phone
                    p.phoneAreaLength = prev.phoneAreaLength
                } else {
                    makePhone(&p, &rng)
                }
            } else {
                let r = rng.unit()
                p.country = r < 0.8 ? 0 : (r < 0.92 ? 1 : 2)
                p.female = rng.chance(0.51)
                p.eastAsian = p.country != 2 && rng.chance(p.country == 0 ? 0.02 : 0.01)
                if p.eastAsian {
                    p.firstPool = 6
                    p.lastPool = 3
                    let k = rng.int(DemoReference.eastAsianNames.count)
                    p.first = UInt16(k)
                    p.last = UInt16(k)
                } else {
                    p.firstPool = UInt8(2 * Int(p.country) + (p.female ? 1 : 0))
                    p.lastPool = p.country
                    p.first = UInt16(rng.skewed(pools.first[Int(p.firstPool)].count))
                    p.last = UInt16(rng.skewed(pools.last[Int(p.lastPool)].count))
                }
                p.home = newAddress(country: p.country, near: nil, &rng)
                makePhone(&p, &rng)
            }
            p.dob = Int32(rng.range(Self.oldestBirth, Self.youngestBirth))
            p.since = Int32(rng.range(Int(Self.firstDay), Int(Self.lastDay) - 30))
            if rng.chance(0.1) {
                // Moved: `home` is where they live now, `previousHome` what older systems still hold.
                let city = rng.chance(0.6) ? Int(addresses[Int(p.home)].city) : nil
                p.previousHome = newAddress(country: p.country, near: city, &rng)
            }
            if p.country == 0 {
                var area = rng.range(1, 899)
                if area == 666 { area = 667 }
                p.ssn = UInt32(area * 1_000_000 + rng.range(1, 99) * 10_000 + rng.range(1, 9999))
            }
            makeEmails(&p, &registry, &rng)

            // Membership: CRM ~70 %, e-commerce ~50 %, marketing ~40 %; everyone is in at least one.
            var systems: UInt8 = 0
            if rng.chance(0.66) { systems |= DemoPerson.crm }
            if rng.chance(0.48) { systems |= DemoPerson.ecommerce }
            if rng.chance(0.38) { systems |= DemoPerson.marketing }
            if systems == 0 {
                let r = rng.unit()
                systems = r < 0.45 ? DemoPerson.crm : (r < 0.8 ? DemoPerson.ecommerce : DemoPerson.marketing)
            }
            if i == 0 { systems = DemoPerson.crm | DemoPerson.ecommerce | DemoPerson.marketing }
            if i == 1 { systems |= DemoPerson.crm | DemoPerson.ecommerce }
            p.systems = systems
            p.crmDuplicate = systems & DemoPerson.crm != 0 && rng.chance(0.03)
            // A second shop account needs a second address to log in with.
            p.ecomDuplicate = systems & DemoPerson.ecommerce != 0
                && (p.altEmail.kind != .none || p.workEmail.kind != .none) && rng.chance(0.05)
            p.hasEvents = i == 0 || rng.chance(0.4)
            if i == 0 || (systems & (DemoPerson.crm | DemoPerson.ecommerce) != 0 && rng.chance(0.22)) {
                p.tickets = UInt8(rng.range(1, 3))
            }
            people.append(p)
        }
    }

    // MARK: Building people

    private mutating func newAddress(country: UInt8, near city: Int?, _ rng: inout DemoRNG) -> Int32 {
        let c = Int(country)
        let cityIndex = city ?? rng.skewed(DemoReference.cities[c].count)
        let info = DemoReference.cities[c][cityIndex]
        let postcode: Int
        switch c {
        case 0: postcode = info.postcodePrefix * 100 + rng.range(1, 99)
        case 1:
            let inward = rng.range(1, 9) * 400 + rng.int(20) * 20 + rng.int(20)
            postcode = rng.int(info.outward.count) * 10_000 + inward
        default: postcode = info.postcodePrefix * 1000 + rng.range(1, 999)
        }
        let number = c == 0 ? (rng.chance(0.5) ? rng.range(1, 999) : rng.range(1000, 9999)) : rng.range(1, 180)
        addresses.append(DemoAddress(country: country, city: UInt16(cityIndex),
                                     street: UInt16(rng.skewed(DemoReference.streets[c].count)),
                                     number: UInt16(number), postcode: UInt32(postcode)))
        return Int32(addresses.count - 1)
    }

    private func makePhone(_ p: inout DemoPerson, _ rng: inout DemoRNG) {
        let c = Int(p.country)
        switch c {
        case 0:
            let area: Int
            if p.home < addresses.count, rng.chance(0.75) {
                area = Int(DemoReference.cities[0][Int(addresses[Int(p.home)].city)].areaCode)!
            } else {
                area = Int(rng.pick(DemoReference.cities[0]).areaCode)!
            }
            p.phone = UInt64(area * 10_000_000 + rng.range(200, 999) * 10_000 + rng.int(10_000))
            p.phoneAreaLength = 3
        default:
            if rng.chance(c == 1 ? 0.7 : 0.75) {
                // Mobile: GB 7[4-9]xx xxxxxx, DE 15x/16x/17x xxxxxxx.
                if c == 1 {
                    p.phone = UInt64(7_000_000_000 + rng.range(4, 9) * 100_000_000 + rng.int(100_000_000))
                    p.phoneAreaLength = 4
                } else {
                    p.phone = UInt64((150 + rng.pick([1, 2, 5, 7, 10, 11, 20, 21, 22, 26])) * 10_000_000
                                     + rng.int(10_000_000))
                    p.phoneAreaLength = 3
                }
            } else {
                let code = p.home < addresses.count
                    ? DemoReference.cities[c][Int(addresses[Int(p.home)].city)].areaCode
                    : rng.pick(DemoReference.cities[c]).areaCode
                let restLength = 10 - code.count
                var scale = 1
                for _ in 0..<restLength { scale *= 10 }
                p.phone = UInt64(Int(code)! * scale + rng.range(2 * scale / 10, scale - 1))
                p.phoneAreaLength = UInt8(code.count)
            }
        }
    }

    private func makeEmails(_ p: inout DemoPerson, _ registry: inout DemoEmailRegistry, _ rng: inout DemoRNG) {
        let domains = DemoReference.domainsByCountry[Int(p.country)]
        let firstID = pools.first[Int(p.firstPool)].emailID[Int(p.first)]
        let lastID = pools.last[Int(p.lastPool)].emailID[Int(p.last)]
        let initial = pools.first[Int(p.firstPool)].initialID[Int(p.first)]
        let year = DemoCalendar.civil(Int(p.dob)).year

        var e = DemoEmail(kind: .personal, form: UInt8(rng.int(8)), domain: UInt8(domains[rng.skewed(domains.count)]))
        if e.form >= 4 { e.number = UInt16(e.form == 4 && rng.chance(0.5) ? year % 100 : rng.range(1, 999)) }
        registry.claim(&e, first: firstID, last: lastID, initial: initial)
        p.email = e

        if rng.chance(0.15) {
            var alt = DemoEmail(kind: .personal, form: UInt8(rng.pick([0, 1, 4, 5])),
                                domain: UInt8(domains[rng.int(domains.count)]))
            if alt.domain == e.domain { alt.domain = UInt8(domains[(domains.firstIndex(of: Int(e.domain))! + 1) % domains.count]) }
            if alt.form >= 4 { alt.number = UInt16(year) }
            registry.claim(&alt, first: firstID, last: lastID, initial: initial)
            p.altEmail = alt
        }
        if rng.chance(0.2) {
            var work = DemoEmail(kind: .work, form: rng.chance(0.7) ? 0 : 2,
                                 domain: UInt8(rng.int(DemoReference.companies.count)))
            registry.claim(&work, first: firstID, last: lastID, initial: initial)
            p.workEmail = work
        }
    }
}

/// Keeps e-mail addresses unique per person (only the deliberate placeholders are shared): a taken
/// address gets a number, or the next number.
struct DemoEmailRegistry {
    private var taken = Set<UInt64>()

    mutating func claim(_ e: inout DemoEmail, first: Int32, last: Int32, initial: Int32) {
        let usesInitial = e.form == 2 || e.form == 7
        let a = UInt64(usesInitial ? initial : first)
        while true {
            var key = UInt64(e.form) | UInt64(e.kind.rawValue) << 3 | UInt64(e.domain) << 5
            key |= UInt64(e.number) << 10 | a << 26 | UInt64(last) << 44
            if taken.insert(key).inserted { return }
            e.number = e.number == 0 ? 2 : e.number &+ 1
        }
    }
}

// MARK: - Rendering the true values

extension DemoPopulation {
    /// The address's e-mail form: `john.smith`, `jsmith42@…`, work `john.smith@initech.com`.
    func renderEmail(_ e: DemoEmail, of p: DemoPerson, into out: inout DemoBuffer) {
        let first = pools.first[Int(p.firstPool)].emailKey[Int(p.first)]
        let last = pools.last[Int(p.lastPool)].emailKey[Int(p.last)]
        switch e.form {
        case 0: out.put(first); out.byte(0x2E); out.put(last)
        case 1: out.put(first); out.put(last)
        case 2, 7: out.byte(first[0]); out.put(last)
        case 3: out.put(first); out.byte(0x5F); out.put(last)
        case 4: out.put(first); out.byte(0x2E); out.put(last)
        case 5: out.put(first)
        default: out.put(last); out.byte(0x2E); out.put(first)
        }
        if e.number > 0 { out.int(Int(e.number)) }
        out.byte(0x40)
        out.put(e.kind == .work ? pools.companies[Int(e.domain)] : pools.mailDomains[Int(e.domain)])
    }

    /// A phone number in one of the styles people and systems write them.
    func renderPhone(_ p: DemoPerson, style: DemoPhoneStyle, into out: inout DemoBuffer) {
        let n = Int(p.phone)
        if p.country == 0 {
            let area = n / 10_000_000, exchange = n / 10_000 % 1000, line = n % 10_000
            func group(_ a: [UInt8], _ b: [UInt8]) {
                out.padded(area, width: 3); out.put(a); out.padded(exchange, width: 3); out.put(b)
                out.padded(line, width: 4)
            }
            switch style {
            case .national: out.byte(0x28); group([0x29, 0x20], [0x2D])                     // (415) 555-0123
            case .dashed: group([0x2D], [0x2D])                                              // 415-555-0123
            case .dotted: group([0x2E], [0x2E])                                              // 415.555.0123
            case .compact: group([], [])                                                     // 4155550123
            case .spaced: group([0x20], [0x20])                                              // 415 555 0123
            case .international: out.put(DemoPools.plusOneSpace); group([0x2D], [0x2D])      // +1 415-555-0123
            case .internationalCompact: out.put(DemoPools.plusOne); group([], [])            // +14155550123
            case .trunk: out.put(DemoPools.oneDash); group([0x2D], [0x2D])                   // 1-415-555-0123
            case .internationalParenthesised:
                out.put(DemoPools.plusOneSpace); out.byte(0x28); group([0x29, 0x20], [0x2D]) // +1 (415) 555-0123
            }
            return
        }
        let restLength = 10 - Int(p.phoneAreaLength)
        var scale = 1
        for _ in 0..<restLength { scale *= 10 }
        let area = n / scale, rest = n % scale
        let code: [UInt8] = p.country == 1 ? DemoPools.plus44 : DemoPools.plus49
        switch style {
        case .national, .spaced, .dotted:                                           // 07700 900123
            out.byte(0x30); out.int(area); out.byte(0x20); out.padded(rest, width: restLength)
        case .dashed:                                                               // 0171-2345678 / 0171/2345678
            out.byte(0x30); out.int(area); out.byte(p.country == 2 ? 0x2F : 0x2D); out.padded(rest, width: restLength)
        case .compact:                                                              // 07700900123
            out.byte(0x30); out.int(area); out.padded(rest, width: restLength)
        case .international:                                                        // +44 7700 900123
            out.put(code); out.byte(0x20); out.int(area); out.byte(0x20); out.padded(rest, width: restLength)
        case .internationalCompact:                                                 // +447700900123
            out.put(code); out.int(area); out.padded(rest, width: restLength)
        case .trunk:                                                                // 0044 7700 900123
            out.put(DemoPools.doubleZero); out.put(code.dropFirst()); out.byte(0x20); out.int(area); out.byte(0x20)
            out.padded(rest, width: restLength)
        case .internationalParenthesised:                                           // +49 (0)171 2345678
            out.put(code); out.put(DemoPools.parenZero); out.int(area); out.byte(0x20); out.padded(rest, width: restLength)
        }
    }

    /// A postcode as the post office writes it: `02134`, `SW1A 2AB`, `04109`.
    func renderPostcode(_ a: DemoAddress, into out: inout DemoBuffer) {
        switch a.country {
        case 0: out.padded(Int(a.postcode), width: 5)
        case 1:
            let outward = Int(a.postcode) / 10_000, inward = Int(a.postcode) % 10_000
            out.put(pools.outward[Int(a.city)][outward])
            out.byte(0x20)
            out.int(inward / 400)
            out.byte(DemoPools.inwardLetters[inward / 20 % 20])
            out.byte(DemoPools.inwardLetters[inward % 20])
        default: out.padded(Int(a.postcode), width: 5)
        }
    }
}

enum DemoPhoneStyle: CaseIterable {
    case national, dashed, dotted, compact, spaced, international, internationalCompact, trunk,
         internationalParenthesised
}
