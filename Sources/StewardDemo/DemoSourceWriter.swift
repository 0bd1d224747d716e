import Foundation

/// Writes the demo's person and activity sources and `truth.csv` for one population.
///
/// Each source draws from its own random stream, writes rows byte by byte, and counts what it wrote:
/// rows, malformed rows (ragged CSV, invalid JSON) and well-formed rows that fail an error-severity
/// check of the generated `steward.yml`. A row carries at most one defect, and ordinary noise is kept
/// to columns whose checks are warnings, so those counts are exact.
struct DemoSourceWriter {
    let pop: DemoPopulation
    let directory: URL
    let seed: UInt64
    let rates = DemoDefectRates()

    /// Clean e-commerce account numbers per person (0: none): the only ids orders and events reference.
    private var ecomPrimary: [Int32] = []
    private var ecomSecondary: [Int32] = []
    private var ecomMaxKey = 0
    private var truth: DemoFile
    var f = DemoBuffer()
    var g = DemoBuffer()
    private var line = DemoBuffer(capacity: 1024)

    init(population: DemoPopulation, directory: URL, seed: UInt64) throws {
        pop = population
        self.directory = directory
        self.seed = seed
        truth = try DemoFile(directory.appendingPathComponent("truth.csv"))
        truth.out.put("source,record_id,entity_id\n")
    }

    mutating func writeAll() throws -> [String: DemoSourceCounts] {
        var sources: [String: DemoSourceCounts] = [:]
        sources["crm_contacts"] = try writeCRM()
        sources["ecom_customers"] = try writeEcomCustomers()
        sources["ecom_orders"] = try writeOrders()
        sources["marketing_list"] = try writeMarketing()
        sources[DemoVendor.sourceName] = try writeVendor()
        sources["support_tickets"] = try writeTickets()
        sources["web_events"] = try writeWebEvents()
        try truth.close()
        return sources
    }

    private func file(_ relative: String) throws -> DemoFile {
        try DemoFile(directory.appendingPathComponent(relative))
    }

    mutating func addTruth(_ source: [UInt8], key: [UInt8], person: Int) throws {
        truth.out.put(source); truth.out.byte(0x2C)
        truth.out.csvField(key, delimiter: 0x2C); truth.out.byte(0x2C)
        truth.out.byte(0x50); truth.out.padded(person + 1, width: 7)
        truth.out.byte(0x0A)
        try truth.flushIfNeeded()
    }

    // MARK: - CRM contacts (CSV, two files, BOM in one, CRLF in the other)

    static let crmColumns = ["contact_id", "FirstName", "LastName", "Email", "Phone", "BirthDate", "street_number",
                             "address_1", "City", "State", "Zip", "Country", "SSN", "Notes", "UpdatedAt"]
    static let crmFiles = ["sources/crm/contacts_1.csv", "sources/crm/contacts_2.csv"]

    private mutating func writeCRM() throws -> DemoSourceCounts {
        var rng = DemoRNG(seed: seed, stream: 2)
        // Record order: by the day the contact was created; the second record of a duplicated contact is
        // re-entered by another sales rep days to years later.
        var order: [UInt64] = []
        order.reserveCapacity(pop.people.count)
        let last = Int(DemoPopulation.lastDay)
        for (i, p) in pop.people.enumerated() where p.systems & DemoPerson.crm != 0 {
            order.append(UInt64(p.since) << 33 | UInt64(i))
            if p.crmDuplicate {
                let later = min(last, Int(p.since) + rng.range(3, 700))
                order.append(UInt64(later) << 33 | 1 << 32 | UInt64(i))
            }
        }
        order.sort()
        let split = max(1, order.count * 6 / 10)
        let source: [UInt8] = Array("crm_contacts".utf8)
        var counts = DemoCounts()
        var recent = DemoRecent()
        var out = try file(Self.crmFiles[0])
        var eol: [UInt8] = [0x0A]
        var row = DemoCSVRow(delimiter: 0x2C)
        for (k, entry) in order.enumerated() {
            if k == 0 || k == split {
                if k == split {
                    try out.close()
                    out = try file(Self.crmFiles[1])
                    eol = [0x0D, 0x0A]
                } else {
                    out.out.put([0xEF, 0xBB, 0xBF])
                }
                out.out.put(Self.crmColumns.joined(separator: ",")); out.out.put(eol)
                recent = DemoRecent()
            }
            let person = Int(entry & 0xFFFF_FFFF)
            let secondary = entry & (1 << 32) != 0
            let key = k + 1
            let defect = rng.defect(rates)
            crmRow(person, key: defect == .missingKey ? nil : key, secondary: secondary, defect: defect,
                   &row, &rng, &out.out, eol)
            try addTruth(source, key: defect == .missingKey ? [] : keyBytes(0x43, key, 7), person: person)
            counts.record(defect)
            if defect == .none || defect == .duplicateKey { recent.add(person: person, key: key) }
            if defect == .duplicateKey, let (dp, dk) = recent.pickEarlier(&rng) {
                // The same contact exported twice: the later copy fails `unique`.
                crmRow(dp, key: dk, secondary: false, defect: .none, &row, &rng, &out.out, eol)
                try addTruth(source, key: keyBytes(0x43, dk, 7), person: dp)
                counts.rows += 1
                counts.failing += 1
            }
            try out.flushIfNeeded()
        }
        try out.close()
        return counts.result(files: order.count > split ? Self.crmFiles : [Self.crmFiles[0]])
    }

    private mutating func crmRow(_ pi: Int, key: Int?, secondary: Bool, defect: DemoDefect,
                                 _ row: inout DemoCSVRow, _ rng: inout DemoRNG, _ out: inout DemoBuffer,
                                 _ eol: [UInt8]) {
        let p = pop.people[pi]
        let ragged = defect == .malformed
        let extra = ragged && rng.chance(0.5)
        row.start(skip: ragged && !extra ? rng.range(1, Self.crmColumns.count - 1) : -1)

        f.clear()
        if let key { f.byte(0x43); f.padded(key, width: 7) }
        row.add(f.bytes, &out)

        // Names: nicknames (more often on a re-entered contact), native script, typos, Jr., swaps.
        let native = p.eastAsian && rng.chance(0.4)
        f.clear()
        if !rng.chance(0.003) {
            appendFirst(p, &f, nickname: rng.chance(secondary ? 0.3 : 0.05), folded: false, native: native, &rng)
            if rng.chance(0.015) { DemoNoise.typo(&f.bytes, 0..<f.count, &rng) }
        }
        g.clear()
        appendLast(p, &g, folded: false, native: native)
        if rng.chance(0.015) { DemoNoise.typo(&g.bytes, 0..<g.count, &rng) }
        if p.junior && rng.chance(0.5) { g.put(", Jr.") }
        if rng.chance(0.01) { row.add(g.bytes, &out); row.add(f.bytes, &out) } else { row.add(f.bytes, &out); row.add(g.bytes, &out) }

        // Email: the personal address, a work address, the other personal one, or a placeholder.
        f.clear()
        let r = rng.unit()
        if r < 0.004 {
            f.put(DemoSourceWriter.noEmail)
        } else if r >= 0.044 {
            var e = p.email
            if p.workEmail.kind != .none, rng.chance(secondary ? 0.5 : 0.3) { e = p.workEmail }
            else if secondary, p.altEmail.kind != .none, rng.chance(0.5) { e = p.altEmail }
            pop.renderEmail(e, of: p, into: &f)
            emailNoise(&rng, typo: 0.01, upper: 0.02)
        }
        row.add(f.bytes, &out)

        f.clear()
        let rp = rng.unit()
        if rp < 0.004 {
            f.put(DemoSourceWriter.zeroPhone)
        } else if rp >= 0.084 {
            pop.renderPhone(p, style: rng.chance(0.55) ? .national : rng.pick(DemoPhoneStyle.allCases), into: &f)
        }
        row.add(f.bytes, &out)

        f.clear()
        if !rng.chance(0.3) { f.date(p.dob, .us) }
        row.add(f.bytes, &out)

        // Address: the CRM is slow to learn about moves.
        let useOld = p.previousHome >= 0 && rng.chance(0.7)
        let a = pop.addresses[Int(useOld ? p.previousHome : p.home)]
        let noAddress = rng.chance(0.03)
        f.clear()
        if !noAddress { f.int(Int(a.number)) }
        row.add(f.bytes, &out)
        f.clear()
        if !noAddress {
            f.put(rng.chance(0.7) ? pop.pools.streetShort[Int(a.country)][Int(a.street)]
                                  : pop.pools.streetLong[Int(a.country)][Int(a.street)])
            if rng.chance(0.01) { DemoNoise.typo(&f.bytes, 0..<f.count, &rng) }
            if a.country == 0, rng.chance(0.04) { f.put(", Apt "); f.int(rng.range(1, 40)); f.byte(0x41 + UInt8(rng.int(4))) }
        }
        row.add(f.bytes, &out)
        f.clear()
        if !noAddress { f.put(pop.pools.cityNames[Int(a.country)][Int(a.city)]) }
        row.add(f.bytes, &out)
        f.clear()
        if !noAddress { f.put(pop.pools.cityRegions[Int(a.country)][Int(a.city)]) }
        row.add(f.bytes, &out)
        f.clear()
        if !noAddress {
            pop.renderPostcode(a, into: &f)
            if a.country == 0, rng.chance(0.05) { f.byte(0x2D); f.padded(rng.int(10_000), width: 4) }
        }
        row.add(f.bytes, &out)

        f.clear()
        if defect == .special {
            f.put(DemoSourceWriter.countryAliases[Int(p.country)])   // fails accepted_values (error)
        } else if !rng.chance(0.01) {
            f.put(pop.pools.countryCodes[Int(p.country)])
        }
        row.add(f.bytes, &out)

        f.clear()
        if p.ssn != 0, rng.chance(0.35) {
            let s = Int(p.ssn)
            if rng.chance(0.8) {
                f.padded(s / 1_000_000, width: 3); f.byte(0x2D); f.padded(s / 10_000 % 100, width: 2); f.byte(0x2D)
                f.padded(s % 10_000, width: 4)
            } else {
                f.padded(s, width: 9)
            }
        }
        row.add(f.bytes, &out)

        f.clear()
        let rn = rng.unit()
        if rn < 0.007 { f.put(rng.pick(DemoReference.crmMultilineNotes)) }
        else if rn < 0.08 { f.put(rng.pick(DemoReference.crmNotes)) }
        row.add(f.bytes, &out)

        f.clear()
        f.sqlDateTime(Int32(rng.range(Int(p.since), Int(DemoPopulation.lastDay))), seconds: Int32(rng.int(86_400)))
        row.add(f.bytes, &out)
        if extra { row.addExtra(&out) }
        out.put(eol)
    }

    // MARK: - E-commerce customers (NDJSON)

    static let ecomCustomersFile = "sources/ecommerce/customers.ndjson"

    private mutating func writeEcomCustomers() throws -> DemoSourceCounts {
        var rng = DemoRNG(seed: seed, stream: 3)
        ecomPrimary = Array(repeating: 0, count: pop.people.count)
        ecomSecondary = Array(repeating: 0, count: pop.people.count)
        var order: [UInt64] = []
        // In sign-up order; a second account (guest checkout, new address) opened later.
        for (i, p) in pop.people.enumerated() where p.systems & DemoPerson.ecommerce != 0 {
            order.append(UInt64(p.since) << 33 | UInt64(i))
            if p.ecomDuplicate {
                let later = rng.range(Int(p.since), Int(DemoPopulation.lastDay))
                order.append(UInt64(later) << 33 | 1 << 32 | UInt64(i))
            }
        }
        order.sort()
        let source: [UInt8] = Array("ecom_customers".utf8)
        var rates = self.rates
        rates.special = 0   // customers fail only not_null and unique on the key
        var counts = DemoCounts()
        var recent = DemoRecent()
        var out = try file(Self.ecomCustomersFile)
        for (k, entry) in order.enumerated() {
            let person = Int(entry & 0xFFFF_FFFF)
            let secondary = entry & (1 << 32) != 0
            let created = Int32(entry >> 33)
            let key = k + 1
            let defect = rng.defect(rates)
            ecomCustomerLine(person, key: key, secondary: secondary, created: created, defect: defect, &rng)
            emitJSONLine(malformed: defect == .malformed, &rng, &out.out)
            try addTruth(source, key: defect == .missingKey ? [] : keyBytes(0x45, key, 7), person: person)
            counts.record(defect)
            if defect == .none || defect == .duplicateKey {
                recent.add(person: person, key: key)
                if secondary { ecomSecondary[person] = Int32(key) } else { ecomPrimary[person] = Int32(key) }
            }
            if defect == .duplicateKey, let (dp, dk) = recent.pickEarlier(&rng) {
                ecomCustomerLine(dp, key: dk, secondary: false, created: nil, defect: .none, &rng)
                emitJSONLine(malformed: false, &rng, &out.out)
                try addTruth(source, key: keyBytes(0x45, dk, 7), person: dp)
                counts.rows += 1
                counts.failing += 1
            }
            try out.flushIfNeeded()
        }
        ecomMaxKey = order.count
        try out.close()
        return counts.result(files: [Self.ecomCustomersFile])
    }

    /// One customer line; `created` is nil for a re-exported copy (then the primary account's date).
    private mutating func ecomCustomerLine(_ pi: Int, key: Int, secondary: Bool, created: Int32?,
                                           defect: DemoDefect, _ rng: inout DemoRNG) {
        let p = pop.people[pi]
        line.clear()
        line.put("{\"customer_id\":")
        if defect == .missingKey {
            line.put(rng.pick(["\"\"", "null", "\"  \""]))
        } else {
            f.clear(); f.byte(0x45); f.padded(key, width: 7); line.jsonString(f.bytes)
        }

        // Name in one field: "First Last", sometimes "Last, First", a middle initial, capitals, a typo.
        f.clear()
        let folded = rng.chance(0.3)
        let nickname = rng.chance(0.12)
        let form = rng.unit()
        if form < 0.15 {
            appendLast(p, &f, folded: folded, native: false)
            f.put(", ")
            appendFirst(p, &f, nickname: nickname, folded: folded, native: false, &rng)
        } else if form < 0.16 {
            appendLast(p, &f, folded: folded, native: false)
            f.byte(0x20)
            appendFirst(p, &f, nickname: nickname, folded: folded, native: false, &rng)
        } else {
            appendFirst(p, &f, nickname: nickname, folded: folded, native: false, &rng)
            if rng.chance(0.04) { f.byte(0x20); f.byte(0x41 + UInt8(rng.int(26))); f.byte(0x2E) }
            f.byte(0x20)
            appendLast(p, &f, folded: folded, native: false)
            if p.junior, rng.chance(0.3) { f.put(" Jr") }
        }
        if rng.chance(0.02) { DemoNoise.typo(&f.bytes, 0..<f.count, &rng) }
        if rng.chance(0.02) { DemoNoise.uppercase(&f.bytes, 0..<f.count) }
        line.put(",\"name\":"); line.jsonString(f.bytes)

        f.clear()
        var e = p.email
        if secondary {
            e = p.altEmail.kind != .none ? p.altEmail : (p.workEmail.kind != .none ? p.workEmail : p.email)
        } else if p.altEmail.kind != .none, rng.chance(0.08) {
            e = p.altEmail
        }
        pop.renderEmail(e, of: p, into: &f)
        emailNoise(&rng, typo: 0.01, upper: 0.03)
        line.put(",\"email\":"); line.jsonString(f.bytes)

        let rp = rng.unit()
        if rp < 0.002 {
            line.put(",\"phone\":\"000-000-0000\"")
        } else if rp < 0.08 {
            line.put(",\"phone\":null")
        } else if rp >= 0.15 {
            f.clear()
            pop.renderPhone(p, style: rng.chance(0.55) ? .international : rng.pick(DemoPhoneStyle.allCases), into: &f)
            line.put(",\"phone\":"); line.jsonString(f.bytes)
        }

        if !rng.chance(0.35) {
            line.put(",\"birthday\":\""); line.date(p.dob, .iso); line.byte(0x22)
        }

        let a = pop.addresses[Int(p.previousHome >= 0 && rng.chance(0.1) ? p.previousHome : p.home)]
        line.put(",\"address\":{\"line1\":")
        f.clear()
        let street = rng.chance(0.5) ? pop.pools.streetShort[Int(a.country)][Int(a.street)]
                                     : pop.pools.streetLong[Int(a.country)][Int(a.street)]
        if a.country == 2 {
            f.put(street); f.byte(0x20); f.int(Int(a.number))
        } else {
            f.int(Int(a.number)); f.byte(0x20); f.put(street)
        }
        if rng.chance(0.01) { DemoNoise.typo(&f.bytes, 0..<f.count, &rng) }
        line.jsonString(f.bytes)
        line.put(",\"city\":")
        line.jsonString(rng.chance(0.2) ? pop.pools.foldedCityNames[Int(a.country)][Int(a.city)]
                                        : pop.pools.cityNames[Int(a.country)][Int(a.city)])
        f.clear()
        pop.renderPostcode(a, into: &f)
        if a.country == 1, rng.chance(0.05) {
            f.bytes.removeAll { $0 == 0x20 }
            DemoNoise.lowercase(&f.bytes, 0..<f.count)
        }
        line.put(",\"zip\":"); line.jsonString(f.bytes)
        line.put(",\"country\":")
        if rng.chance(0.04) {
            line.jsonString(rng.pick(DemoSourceWriter.countryNames[Int(a.country)]))
        } else {
            line.jsonString(pop.pools.countryCodes[Int(a.country)])
        }
        line.byte(0x7D)

        line.put(",\"created_at\":\"")
        line.isoDateTime(created ?? p.since, seconds: Int32(rng.int(86_400)))
        line.put(rng.chance(0.6) ? "\",\"accepts_marketing\":true}" : "\",\"accepts_marketing\":false}")
    }

    /// Appends `line` plus a newline; a malformed line is cut short or gets a doubled comma.
    private mutating func emitJSONLine(malformed: Bool, _ rng: inout DemoRNG, _ out: inout DemoBuffer) {
        if !malformed {
            out.put(line.bytes)
        } else if rng.chance(0.5) {
            var cut = line.count * (30 + rng.int(50)) / 100
            while cut > 1, line.bytes[cut] >= 0x80 { cut -= 1 }   // never split a UTF-8 sequence
            out.put(line.bytes[0..<cut])
        } else {
            let comma = line.bytes.firstIndex(of: 0x2C) ?? 1
            out.put(line.bytes[0...comma]); out.byte(0x2C); out.put(line.bytes[(comma + 1)...])
        }
        out.byte(0x0A)
    }

    // MARK: - E-commerce orders (CSV)

    static let ordersFile = "sources/ecommerce/orders.csv"
    static let orderColumns = ["order_id", "customer_id", "order_date", "total", "currency", "status", "items"]

    private struct Order {
        var day: Int32
        var second: Int32
        var customer: Int32
        var person: Int32
        var cents: Int32
        var status: UInt8
        var items: UInt8
    }

    private mutating func writeOrders() throws -> DemoSourceCounts {
        var rng = DemoRNG(seed: seed, stream: 4)
        var orders: [Order] = []
        orders.reserveCapacity(pop.people.count * 3 / 2)
        // Each buyer's buying life, from a stream of its own: 60 % still buy and order within the last
        // nine months of the calendar; the others lapsed at a day between their first contact and 200
        // days before its end. Churn models trained on the catalog have a real pattern to find.
        var life = DemoRNG(seed: seed, stream: 8)
        let end = Int(DemoPopulation.lastDay)
        for (i, p) in pop.people.enumerated() where ecomPrimary[i] != 0 || ecomSecondary[i] != 0 {
            let since = Int(p.since)
            let lapsed = life.chance(0.4) && since < end - 260
            let first = lapsed ? since : max(since, end - 270)
            let last = lapsed ? since + Int(Double(end - 200 - since) * (0.3 + 0.7 * life.unit())) : end
            for _ in 0..<(1 + rng.int(4)) {
                let account = ecomPrimary[i] != 0 && (ecomSecondary[i] == 0 || rng.chance(0.75))
                    ? ecomPrimary[i] : ecomSecondary[i]
                let day = Int32(rng.range(first, last))
                let u = rng.unit()
                var status = UInt8(rng.int(DemoReference.orderStatuses.count))
                if day > DemoPopulation.lastDay - 7 { status = rng.chance(0.5) ? 4 : 5 }
                orders.append(Order(day: day, second: Int32(rng.int(86_400)), customer: account, person: Int32(i),
                                    cents: Int32(999 + Int(u * u * 45_000)), status: status,
                                    items: UInt8(rng.range(1, 5))))
            }
        }
        orders.sort { ($0.day, $0.second, $0.customer) < ($1.day, $1.second, $1.customer) }
        let statuses = DemoReference.orderStatuses.map { Array($0.utf8) }
        let currencies: [[UInt8]] = ["USD", "GBP", "EUR"].map { Array($0.utf8) }
        var counts = DemoCounts()
        var recent = DemoRecent()
        var out = try file(Self.ordersFile)
        out.out.put(Self.orderColumns.joined(separator: ",")); out.out.byte(0x0A)
        var row = DemoCSVRow(delimiter: 0x2C)

        func emit(_ o: Order, key: Int?, brokenRef: Int?, negative: Bool, ragged: Bool,
                  _ rng: inout DemoRNG, _ out: inout DemoBuffer, _ f: inout DemoBuffer) {
            let extra = ragged && rng.chance(0.5)
            row.start(skip: ragged && !extra ? rng.range(1, Self.orderColumns.count - 1) : -1)
            f.clear(); if let key { f.byte(0x4F); f.padded(key, width: 8) }; row.add(f.bytes, &out)
            f.clear(); f.byte(0x45); f.padded(brokenRef ?? Int(o.customer), width: 7); row.add(f.bytes, &out)
            f.clear(); f.isoDateTime(o.day, seconds: o.second); row.add(f.bytes, &out)
            f.clear(); f.cents(negative ? -Int(o.cents) : Int(o.cents)); row.add(f.bytes, &out)
            row.add(currencies[Int(pop.people[Int(o.person)].country)], &out)
            row.add(statuses[Int(o.status)], &out)
            f.clear(); f.int(Int(o.items)); row.add(f.bytes, &out)
            if extra { row.addExtra(&out) }
            out.byte(0x0A)
        }

        for (k, o) in orders.enumerated() {
            let key = k + 1
            let defect = rng.defect(rates)
            let special = defect == .special
            let broken = special && rng.chance(0.6)
            emit(o, key: defect == .missingKey ? nil : key,
                 brokenRef: broken ? ecomMaxKey + 1 + rng.int(10_000) : nil,
                 negative: special && !broken, ragged: defect == .malformed, &rng, &out.out, &f)
            counts.record(defect)
            if defect == .none || defect == .duplicateKey { recent.add(person: k, key: key) }
            if defect == .duplicateKey, let (dk, dkey) = recent.pickEarlier(&rng) {
                emit(orders[dk], key: dkey, brokenRef: nil, negative: false, ragged: false, &rng, &out.out, &f)
                counts.rows += 1
                counts.failing += 1
            }
            try out.flushIfNeeded()
        }
        try out.close()
        return counts.result(files: [Self.ordersFile])
    }

    // MARK: - Marketing list (CSV with `;`, European dates)

    static let marketingFile = "sources/marketing/subscribers.csv"
    static let marketingColumns = ["subscriber_id", "email", "first_name", "last_name", "postcode", "country",
                                   "opt_in_date", "signup_source", "unsubscribed_at"]

    private mutating func writeMarketing() throws -> DemoSourceCounts {
        var rng = DemoRNG(seed: seed, stream: 6)
        var order: [UInt64] = []
        for (i, p) in pop.people.enumerated() where p.systems & DemoPerson.marketing != 0 {
            let day = rng.range(Int(p.since), Int(DemoPopulation.lastDay))
            order.append(UInt64(day) << 32 | UInt64(i))
        }
        order.sort()
        let source: [UInt8] = Array("marketing_list".utf8)
        let signup = DemoReference.marketingSignupSources.map { Array($0.utf8) }
        var counts = DemoCounts()
        var recent = DemoRecent()
        var out = try file(Self.marketingFile)
        out.out.put(Self.marketingColumns.joined(separator: ";")); out.out.byte(0x0A)
        var row = DemoCSVRow(delimiter: 0x3B)
        for (k, entry) in order.enumerated() {
            let person = Int(entry & 0xFFFF_FFFF)
            let day = Int32(entry >> 32)
            let key = 10_000_000 + k + 1
            let defect = rng.defect(rates)
            marketingRow(person, key: defect == .missingKey ? nil : key, day: day, defect: defect, signup,
                         &row, &rng, &out.out)
            try addTruth(source, key: defect == .missingKey ? [] : Array(String(key).utf8), person: person)
            counts.record(defect)
            if defect == .none || defect == .duplicateKey { recent.add(person: person, key: key) }
            if defect == .duplicateKey, let (dp, dk) = recent.pickEarlier(&rng) {
                marketingRow(dp, key: dk, day: day, defect: .none, signup, &row, &rng, &out.out)
                try addTruth(source, key: Array(String(dk).utf8), person: dp)
                counts.rows += 1
                counts.failing += 1
            }
            try out.flushIfNeeded()
        }
        try out.close()
        return counts.result(files: [Self.marketingFile])
    }

    private mutating func marketingRow(_ pi: Int, key: Int?, day: Int32, defect: DemoDefect, _ signup: [[UInt8]],
                                       _ row: inout DemoCSVRow, _ rng: inout DemoRNG, _ out: inout DemoBuffer) {
        let p = pop.people[pi]
        let ragged = defect == .malformed
        let extra = ragged && rng.chance(0.5)
        row.start(skip: ragged && !extra ? rng.range(1, Self.marketingColumns.count - 1) : -1)
        f.clear(); if let key { f.int(key) }; row.add(f.bytes, &out)

        f.clear()
        if defect != .special {   // a subscriber without an address fails not_null (error)
            let e = p.altEmail.kind != .none && rng.chance(0.12) ? p.altEmail : p.email
            pop.renderEmail(e, of: p, into: &f)
            emailNoise(&rng, typo: 0.01, upper: 0.02)
        }
        row.add(f.bytes, &out)

        f.clear(); g.clear()
        if !rng.chance(0.08) {
            let folded = rng.chance(0.5)
            appendFirst(p, &f, nickname: rng.chance(0.1), folded: folded, native: false, &rng)
            appendLast(p, &g, folded: folded, native: false)
            if rng.chance(0.02) { DemoNoise.typo(&f.bytes, 0..<f.count, &rng) }
            if rng.chance(0.02) { DemoNoise.typo(&g.bytes, 0..<g.count, &rng) }
            if rng.chance(0.1) {
                DemoNoise.lowercase(&f.bytes, 0..<f.count)
                DemoNoise.lowercase(&g.bytes, 0..<g.count)
            }
        }
        if rng.chance(0.02) { row.add(g.bytes, &out); row.add(f.bytes, &out) } else { row.add(f.bytes, &out); row.add(g.bytes, &out) }

        let a = pop.addresses[Int(p.previousHome >= 0 && rng.chance(0.5) ? p.previousHome : p.home)]
        f.clear()
        if !rng.chance(0.1) {
            if a.country == 0, a.postcode < 10_000, rng.chance(0.5) {
                f.int(Int(a.postcode))   // leading zero lost to a spreadsheet
            } else {
                pop.renderPostcode(a, into: &f)
                if a.country == 1, rng.chance(0.05) { DemoNoise.lowercase(&f.bytes, 0..<f.count) }
            }
        }
        row.add(f.bytes, &out)
        row.add(pop.pools.countryCodes[Int(p.country)], &out)
        f.clear(); f.date(day, .european); row.add(f.bytes, &out)
        row.add(signup[rng.skewed(signup.count)], &out)
        // Consent withdrawals (issue 20): ~15 % unsubscribed after opting in, ~3 % before (they opted in
        // again, so the opt-in stands). Drawn from a hash of the person and day, not the row stream, so
        // every other value of the file stays as it was.
        f.clear()
        var h = SplitMix64(state: seed &* 0x9E37_79B9 ^ UInt64(pi) << 20 ^ UInt64(UInt32(bitPattern: day)))
        let roll = h.next() % 100, offset = Int32(1 + h.next() % 400)
        if roll < 15, day + offset <= DemoPopulation.lastDay { f.date(day + offset, .european) }
        else if roll >= 97, day - offset >= 0 { f.date(day - offset, .european) }
        row.add(f.bytes, &out)
        if extra { row.addExtra(&out) }
        out.byte(0x0A)
    }

    // MARK: - Support tickets (CSV)

    static let ticketsFile = "sources/support/tickets.csv"
    static let ticketColumns = ["ticket_id", "requester_email", "created_at", "category", "priority", "status",
                                "subject"]

    private mutating func writeTickets() throws -> DemoSourceCounts {
        var rng = DemoRNG(seed: seed, stream: 5)
        var tickets: [(day: Int32, second: Int32, person: Int32)] = []
        for (i, p) in pop.people.enumerated() where p.tickets > 0 {
            for _ in 0..<Int(p.tickets) {
                tickets.append((Int32(rng.range(Int(p.since), Int(DemoPopulation.lastDay))),
                                Int32(rng.int(86_400)), Int32(i)))
            }
        }
        tickets.sort { ($0.day, $0.second, $0.person) < ($1.day, $1.second, $1.person) }
        let categories = DemoReference.ticketCategories.map { Array($0.utf8) }
        let priorities = DemoReference.ticketPriorities.map { Array($0.utf8) }
        let badPriorities: [[UInt8]] = ["P1", "ASAP", "critical", "High!"].map { Array($0.utf8) }
        let statuses = DemoReference.ticketStatuses.map { Array($0.utf8) }
        let subjects = DemoReference.ticketSubjects.map { Array($0.utf8) }
        var counts = DemoCounts()
        var recent = DemoRecent()
        var out = try file(Self.ticketsFile)
        out.out.put(Self.ticketColumns.joined(separator: ",")); out.out.byte(0x0A)
        var row = DemoCSVRow(delimiter: 0x2C)

        func emit(_ t: (day: Int32, second: Int32, person: Int32), key: Int?, defect: DemoDefect,
                  _ rng: inout DemoRNG, _ out: inout DemoBuffer, _ f: inout DemoBuffer) {
            let p = pop.people[Int(t.person)]
            let ragged = defect == .malformed
            let extra = ragged && rng.chance(0.5)
            row.start(skip: ragged && !extra ? rng.range(1, Self.ticketColumns.count - 1) : -1)
            f.clear(); if let key { f.byte(0x54); f.padded(key, width: 7) }; row.add(f.bytes, &out)
            f.clear()
            let r = rng.unit()
            if r < 0.002 {
                f.put(DemoSourceWriter.noEmail)
            } else if r >= 0.012 {
                var e = p.email
                if p.systems & DemoPerson.ecommerce == 0, p.workEmail.kind != .none, rng.chance(0.4) { e = p.workEmail }
                else if p.altEmail.kind != .none, rng.chance(0.05) { e = p.altEmail }
                pop.renderEmail(e, of: p, into: &f)
                if rng.chance(0.03) { DemoNoise.uppercase(&f.bytes, 0..<f.count) }
                if rng.chance(0.005), let at = f.bytes.firstIndex(of: 0x40) { DemoNoise.typo(&f.bytes, 0..<at, &rng) }
            }
            row.add(f.bytes, &out)
            f.clear(); f.isoDateTime(t.day, seconds: t.second); row.add(f.bytes, &out)
            f.clear(); f.put(categories[rng.skewed(categories.count)])
            if rng.chance(0.02) { f.bytes[0] &= ~0x20 }   // "Billing": fails a warning only
            row.add(f.bytes, &out)
            row.add(defect == .special ? badPriorities[rng.int(badPriorities.count)]
                                       : priorities[rng.int(priorities.count)], &out)
            row.add(statuses[t.day > DemoPopulation.lastDay - 10 ? rng.int(2) : rng.int(statuses.count)], &out)
            row.add(subjects[rng.int(subjects.count)], &out)
            if extra { row.addExtra(&out) }
            out.byte(0x0A)
        }

        for (k, t) in tickets.enumerated() {
            let key = k + 1
            let defect = rng.defect(rates)
            emit(t, key: defect == .missingKey ? nil : key, defect: defect, &rng, &out.out, &f)
            counts.record(defect)
            if defect == .none || defect == .duplicateKey { recent.add(person: k, key: key) }
            if defect == .duplicateKey, let (dk, dkey) = recent.pickEarlier(&rng) {
                emit(tickets[dk], key: dkey, defect: .none, &rng, &out.out, &f)
                counts.rows += 1
                counts.failing += 1
            }
            try out.flushIfNeeded()
        }
        try out.close()
        return counts.result(files: [Self.ticketsFile])
    }

    // MARK: - Web events (NDJSON)

    static let eventsFile = "sources/web/events.ndjson"

    private struct Event {
        var day: Int32
        var second: Int32
        var person: Int32    // -1: anonymous visitor
        var type: UInt8      // 0 page_view, 1 add_to_cart, 2 checkout
        var session: UInt32
    }

    private mutating func writeWebEvents() throws -> DemoSourceCounts {
        var rng = DemoRNG(seed: seed, stream: 7)
        var events: [Event] = []
        events.reserveCapacity(pop.people.count * 3 / 2)
        for (i, p) in pop.people.enumerated() where p.hasEvents {
            let session = UInt32(truncatingIfNeeded: rng.next())
            let day = Int32(rng.range(Int(p.since), Int(DemoPopulation.lastDay)))
            var second = Int32(rng.int(80_000))
            for _ in 0..<(1 + rng.int(6)) {
                let r = rng.unit()
                events.append(Event(day: day, second: second, person: Int32(i),
                                    type: r < 0.7 ? 0 : (r < 0.9 ? 1 : 2), session: session))
                second += Int32(rng.range(5, 120))
                if rng.chance(0.18) {
                    events.append(Event(day: Int32(rng.range(Int(DemoPopulation.firstDay), Int(DemoPopulation.lastDay))),
                                        second: Int32(rng.int(86_400)), person: -1, type: rng.chance(0.9) ? 0 : 1,
                                        session: UInt32(truncatingIfNeeded: rng.next())))
                }
            }
        }
        events.sort { ($0.day, $0.second, $0.session, $0.person) < ($1.day, $1.second, $1.session, $1.person) }
        let types = ["page_view", "add_to_cart", "checkout"].map { Array($0.utf8) }
        let badTypes = ["purchase", "PageView", "click"].map { Array($0.utf8) }
        let pages = DemoReference.webPages.map { Array($0.utf8) }
        var counts = DemoCounts()
        var recent = DemoRecent()
        var out = try file(Self.eventsFile)

        for (k, e) in events.enumerated() {
            let key = k + 1
            let defect = rng.defect(rates)
            eventLine(e, key: defect == .missingKey ? nil : key, badType: defect == .special ? badTypes[rng.int(3)] : nil,
                      types, pages, &rng)
            emitJSONLine(malformed: defect == .malformed, &rng, &out.out)
            counts.record(defect)
            if defect == .none || defect == .duplicateKey { recent.add(person: k, key: key) }
            if defect == .duplicateKey, let (dk, dkey) = recent.pickEarlier(&rng) {
                eventLine(events[dk], key: dkey, badType: nil, types, pages, &rng)
                emitJSONLine(malformed: false, &rng, &out.out)
                counts.rows += 1
                counts.failing += 1
            }
            try out.flushIfNeeded()
        }
        try out.close()
        return counts.result(files: [Self.eventsFile])
    }

    private mutating func eventLine(_ e: Event, key: Int?, badType: [UInt8]?, _ types: [[UInt8]], _ pages: [[UInt8]],
                                    _ rng: inout DemoRNG) {
        line.clear()
        line.put("{\"event_id\":")
        if let key { line.byte(0x22); line.byte(0x57); line.padded(key, width: 9); line.byte(0x22) }
        else { line.put(rng.chance(0.5) ? "null" : "\"\"") }
        line.put(",\"ts\":\""); line.isoDateTime(e.day, seconds: e.second)
        line.put("\",\"type\":"); line.jsonString(badType ?? types[Int(e.type)])
        line.put(",\"session_id\":\"s"); line.padded(Int(e.session), width: 10)
        line.put("\",\"page\":\"")
        switch e.type {
        case 1: line.put("/cart")
        case 2: line.put("/checkout")
        default:
            let page = pages[rng.int(pages.count)]
            line.put(page)
            if page.last == 0x2F, page.count > 1 { line.int(rng.range(100, 9999)) }
            if page.last == 0x3D { line.put("shoes") }
        }
        line.put("\",\"user\":")
        if e.person < 0 {
            line.put("null")
        } else {
            let pi = Int(e.person)
            let p = pop.people[pi]
            let account = ecomPrimary[pi] != 0 ? ecomPrimary[pi] : ecomSecondary[pi]
            let withID = account != 0 && rng.chance(0.85)
            let withEmail = !withID || rng.chance(0.9)
            line.byte(0x7B)
            if withEmail {
                f.clear(); pop.renderEmail(p.email, of: p, into: &f)
                line.put("\"email\":"); line.jsonString(f.bytes)
            }
            if withID {
                if withEmail { line.byte(0x2C) }
                line.put("\"customer_id\":\"E"); line.padded(Int(account), width: 7); line.byte(0x22)
            }
            line.byte(0x7D)
        }
        if e.type == 2 || (e.type == 1 && rng.chance(0.5)) {
            line.put(",\"value\":"); line.cents(999 + rng.int(40_000))
        }
        line.byte(0x7D)
    }

    // MARK: - Shared helpers

    static let noEmail: [UInt8] = Array("noemail@example.com".utf8)
    static let zeroPhone: [UInt8] = Array("000-000-0000".utf8)
    static let countryAliases: [[UInt8]] = ["USA", "UK", "Germany"].map { Array($0.utf8) }
    static let countryNames: [[[UInt8]]] = [["USA", "United States", "U.S.A."], ["UK", "United Kingdom", "England"],
                                            ["Deutschland", "Germany"]].map { $0.map { Array($0.utf8) } }

    private func keyBytes(_ prefix: UInt8, _ n: Int, _ width: Int) -> [UInt8] {
        var b = DemoBuffer(capacity: 12)
        b.byte(prefix); b.padded(n, width: width)
        return b.bytes
    }

    func appendFirst(_ p: DemoPerson, _ out: inout DemoBuffer, nickname: Bool, folded: Bool, native: Bool,
                             _ rng: inout DemoRNG) {
        let pool = pop.pools.first[Int(p.firstPool)]
        let i = Int(p.first)
        if native, !pool.native.isEmpty { out.put(pool.native[i]); return }
        if nickname, !pool.nicknames[i].isEmpty { out.put(pool.nicknames[i][rng.int(pool.nicknames[i].count)]); return }
        out.put(folded ? pool.folded[i] : pool.names[i])
    }

    func appendLast(_ p: DemoPerson, _ out: inout DemoBuffer, folded: Bool, native: Bool) {
        let pool = pop.pools.last[Int(p.lastPool)]
        let i = Int(p.last)
        if native, !pool.native.isEmpty { out.put(pool.native[i]); return }
        out.put(folded ? pool.folded[i] : pool.names[i])
    }

    /// Typos in the local part and shouting capitals, applied to the e-mail address in `f`.
    private mutating func emailNoise(_ rng: inout DemoRNG, typo: Double, upper: Double) {
        if rng.chance(typo), let at = f.bytes.firstIndex(of: 0x40) { DemoNoise.typo(&f.bytes, 0..<at, &rng) }
        if rng.chance(upper) { DemoNoise.uppercase(&f.bytes, 0..<f.count) }
    }
}

// MARK: - Defects and bookkeeping

/// Per-row probabilities of the deliberate defects (a row gets at most one).
struct DemoDefectRates {
    var malformed = 0.002
    var missingKey = 0.0005
    var duplicateKey = 0.0005
    /// A source-specific error-check failure: an unknown country code, a broken order reference or a
    /// negative total, an unknown priority or event type, a subscriber without an address.
    var special = 0.0007
}

enum DemoDefect { case none, malformed, missingKey, duplicateKey, special }

extension DemoRNG {
    mutating func defect(_ r: DemoDefectRates) -> DemoDefect {
        var u = unit()
        if u < r.malformed { return .malformed }
        u -= r.malformed
        if u < r.missingKey { return .missingKey }
        u -= r.missingKey
        if u < r.duplicateKey { return .duplicateKey }
        u -= r.duplicateKey
        if u < r.special { return .special }
        return .none
    }
}

struct DemoCounts {
    var rows = 0
    var malformed = 0
    var failing = 0

    /// Counts the row written for this slot (a duplicate-key slot writes a clean row plus, separately, the copy).
    mutating func record(_ d: DemoDefect) {
        rows += 1
        switch d {
        case .malformed: malformed += 1
        case .missingKey, .special: failing += 1
        case .none, .duplicateKey: break
        }
    }

    func result(files: [String]) -> DemoSourceCounts {
        DemoSourceCounts(files: files, rows: rows, malformed: malformed, failingErrorChecks: failing)
    }
}

/// The last clean rows of the current file, for duplicate-key copies.
struct DemoRecent {
    private var items: [(Int, Int)] = []
    private var next = 0

    mutating func add(person: Int, key: Int) {
        if items.count < 64 { items.append((person, key)) } else { items[next] = (person, key) }
        next = (next + 1) % 64
    }

    /// A clean row other than the newest, if there is one.
    mutating func pickEarlier(_ rng: inout DemoRNG) -> (Int, Int)? {
        guard items.count >= 2 else { return nil }
        let newest = items.count < 64 ? items.count - 1 : (next + 63) % 64
        var i = rng.int(items.count - 1)
        if i >= newest { i += 1 }
        return items[i]
    }
}

/// Writes one CSV record field by field; a ragged row drops the field at `skip`.
struct DemoCSVRow {
    let delimiter: UInt8
    private var skip = -1
    private var index = 0
    private var written = 0

    init(delimiter: UInt8) { self.delimiter = delimiter }

    mutating func start(skip: Int) {
        self.skip = skip
        index = 0
        written = 0
    }

    @inline(__always)
    mutating func add(_ value: [UInt8], _ out: inout DemoBuffer) {
        defer { index += 1 }
        if index == skip { return }
        if written > 0 { out.byte(delimiter) }
        out.csvField(value, delimiter: delimiter)
        written += 1
    }

    /// One field too many.
    mutating func addExtra(_ out: inout DemoBuffer) {
        out.byte(delimiter)
        out.put("see attached")
    }
}
