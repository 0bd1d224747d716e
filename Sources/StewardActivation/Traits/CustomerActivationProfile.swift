import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// What activation knows of one customer, for the 360: custom traits, consent per channel (every
/// channel the project states, "no statement" included) and audience memberships.
public struct CustomerActivationProfile: Sendable, Equatable {
    public struct Consent: Sendable, Equatable {
        public var channel: String
        /// nil: no statement (no consent).
        public var granted: Bool?
        public var at: String?
        public var source: String?
        public var consents: Bool { granted == true }
    }

    public struct Trait: Sendable, Equatable {
        public var name: String
        public var value: String
        /// The source record the value came from.
        public var source: String
        public var recordKey: String
        /// Masked on display unless revealed.
        public var pii: PIIKind?
        /// As declared (`.any` when undeclared): what type the value has in JSON.
        public var type: TraitType = .any

        /// The value for a JSON body: a declared number or yes/no as itself, otherwise (and whenever
        /// the value is masked) text.
        public func json(reveal: Bool) -> Any {
            let shown = PIIPolicy.display(value, kind: pii, reveal: reveal) ?? ""
            guard shown == value, type == .number || type == .bool, let typed = TraitValue.parse(value, as: type) else { return shown }
            return typed.json
        }
    }

    public var traits: [Trait]
    public var consent: [Consent]
    public var audiences: [(name: String, holdout: Bool)]

    public static func == (a: Self, b: Self) -> Bool {
        a.traits == b.traits && a.consent == b.consent && a.audiences.map(\.name) == b.audiences.map(\.name)
            && a.audiences.map(\.holdout) == b.audiences.map(\.holdout)
    }

    public static func load(_ db: Database, customerId: String, config: ProjectConfig) throws -> CustomerActivationProfile {
        guard try db.tableExists("customer_trait") else { return CustomerActivationProfile(traits: [], consent: [], audiences: []) }
        let declared = CustomerTraits.names(config)
        let types = CustomerTraits.types(config)
        let traits = try Row.fetchAll(db, sql: "SELECT name, value, source, record_key FROM customer_trait WHERE customer_id = ?",
                                      arguments: [customerId])
            .map { Trait(name: $0[0], value: $0[1], source: $0[2], recordKey: $0[3], pii: Traits.piiKind($0[0], sources: config.sources),
                        type: types[$0[0]] ?? .any) }
            .sorted { (declared.firstIndex(of: $0.name) ?? .max, $0.name) < (declared.firstIndex(of: $1.name) ?? .max, $1.name) }
        var stated: [String: Consent] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT channel, granted, at, source FROM customer_consent WHERE customer_id = ?", arguments: [customerId]) {
            stated[r[0]] = Consent(channel: r[0], granted: (r[1] as Int) == 1, at: r[2], source: r[3])
        }
        var consent = Traits.channels(sources: config.sources).map { stated[$0] ?? Consent(channel: $0, granted: nil, at: nil, source: nil) }
        for (channel, c) in stated where !consent.contains(where: { $0.channel == channel }) { consent.append(c) }
        let audiences = try Row.fetchAll(db, sql: "SELECT audience, holdout FROM audience_member WHERE customer_id = ? ORDER BY audience",
                                         arguments: [customerId]).map { (name: $0[0] as String, holdout: ($0[1] as Int) == 1) }
        return CustomerActivationProfile(traits: traits, consent: consent, audiences: audiences)
    }
}
