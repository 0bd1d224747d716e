import StewardConfig

extension Survivorship {
    /// Attributes whose golden values are chosen together from one record. Chosen one by one, the
    /// most common city and the most common postcode of a person who moved can come from different
    /// records and make an address that never existed; so can a first name and a last name.
    struct AttributeGroup: Sendable, Equatable {
        /// The group's attributes (indices into `attributes`).
        let members: [Int]
        /// The parts a record must all have to be chosen when some record has them all: an address
        /// is chosen among records with a street, a name among records with both names.
        let lead: [Int]
        /// Without a record holding every lead part: true, the parts still come from one record
        /// (an address); false, each part follows its own rule (names not entered together).
        let togetherWithoutLead: Bool
        /// The group's rule: the first part with a rule of its own in steward.yml, else the default.
        let rule: SurvivorshipRule
        /// Whether a part the chosen record lacks may come from a record holding the same value
        /// (`sameValue`): an address's region from the CRM record, its country from the shop's
        /// record of the same street. Names are not completed this way.
        let fillsGaps: Bool

        static let address = ["street", "city", "postcode", "region", "country"]
        static let name = ["first_name", "last_name"]

        /// The groups of a project's survivorship settings.
        static func all(_ config: SurvivorshipConfig) -> [AttributeGroup] {
            func make(_ names: [String], lead: [String], together: Bool) -> AttributeGroup {
                let rule = names.lazy.compactMap { config.attributes[$0] }.first ?? config.defaultRule
                return AttributeGroup(members: names.map { Survivorship.attributeIndex[$0]! },
                                      lead: lead.map { Survivorship.attributeIndex[$0]! }, togetherWithoutLead: together, rule: rule,
                                      fillsGaps: together)
            }
            return [make(address, lead: ["street"], together: true), make(name, lead: name, together: false)]
        }

        /// The text two spellings of one part share: a street in its normalised form ("12 Main St."
        /// and "12 Main Street" agree), the other parts as every attribute is compared.
        func key(_ attribute: Int, _ value: String) -> String {
            attribute == Self.streetIndex ? AddressDimension.normalisedStreet(value) : Survivorship.normal(value)
        }

        static let streetIndex = Survivorship.attributeIndex["street"]!
        static let postcodeIndex = Survivorship.attributeIndex["postcode"]!
        static let cityIndex = Survivorship.attributeIndex["city"]!

        /// Whether two records hold the same address, given each part's key per record (`keys`, in
        /// `members` order): no part both have disagrees, and they share the street, or without
        /// streets the postcode or the city.
        func sameValue(_ keys: [[String?]], _ i: Int, _ j: Int) -> Bool {
            var shared = false, sharedStreet = false, eitherStreet = false
            for (p, a) in members.enumerated() {
                let x = keys[p][i], y = keys[p][j]
                if a == Self.streetIndex, x != nil || y != nil { eitherStreet = true }
                guard let x, let y else { continue }
                if x != y { return false }
                if a == Self.streetIndex { sharedStreet = true }
                if a == Self.postcodeIndex || a == Self.cityIndex { shared = true }
            }
            return eitherStreet ? sharedStreet : shared
        }
    }
}

extension Survivorship.Chooser {
    /// Sets every part of `group` from one record: the candidate (see `AttributeGroup.lead`) the
    /// group's rule prefers, where "most frequent" scores a record by how many of the customer's
    /// records agree with each part it has. A part that record lacks comes only from a record of the
    /// same address (`sameValue`), else stays empty.
    func chooseTogether(_ group: Survivorship.AttributeGroup, _ records: [Survivorship.SourceValues], _ out: inout [Int],
                        _ s: inout Scratch) {
        s.candidates.removeAll(keepingCapacity: true)
        for i in records.indices where group.lead.allSatisfy({ records[i].slots[$0] != nil }) { s.candidates.append(i) }
        if s.candidates.isEmpty {
            guard group.togetherWithoutLead else {
                for a in group.members { out[a] = winner(of: a, records, &s) }
                return
            }
            for i in records.indices where group.members.contains(where: { records[i].slots[$0] != nil }) { s.candidates.append(i) }
        }
        guard var best = s.candidates.first else { return }
        if s.candidates.count > 1 {
            if s.priorities == nil { s.priorities = records.map(survivorship.priority) }
            // Each part's normal form per record (nil: missing), then each candidate's agreement score.
            let keys = group.members.map { a in records.map { r in r.slots[a].map { group.key(a, $0) } } }
            s.freq.removeAll(keepingCapacity: true)
            for i in s.candidates {
                var score = 0
                for part in keys { if let k = part[i] { for other in part where other == k { score += 1 } } }
                s.freq.append(score)
            }
            var bestAt = 0
            for c in 1..<s.candidates.count
            where better(records, s.candidates[c], s.candidates[bestAt], s.freq[c], s.freq[bestAt], s.priorities!, group.rule) { bestAt = c }
            best = s.candidates[bestAt]
            for a in group.members { out[a] = records[best].slots[a] == nil ? -1 : best }
            guard group.fillsGaps else { return }
            // Each filler must hold the same address as the chosen record and every earlier filler.
            var used = [best]
            for (p, a) in group.members.enumerated() where out[a] < 0 {
                var from = -1
                for c in s.candidates.indices where keys[p][s.candidates[c]] != nil
                    && used.allSatisfy({ group.sameValue(keys, s.candidates[c], $0) })
                    && (from < 0 || better(records, s.candidates[c], s.candidates[from], s.freq[c], s.freq[from], s.priorities!, group.rule)) {
                    from = c
                }
                guard from >= 0 else { continue }
                out[a] = s.candidates[from]
                if !used.contains(out[a]) { used.append(out[a]) }
            }
            return
        }
        for a in group.members { out[a] = records[best].slots[a] == nil ? -1 : best }
    }
}
