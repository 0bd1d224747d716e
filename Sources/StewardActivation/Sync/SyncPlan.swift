import Foundation
import StewardCatalog
import StewardConfig
import StewardPipeline

/// A value sent to a destination: typed as the trait is (numbers stay numbers in JSON).
public enum SyncValue: Sendable, Equatable, Hashable {
    case text(String)
    case number(Double)
    case bool(Bool)
    case null

    /// For JSON: a whole number without its `.0`.
    public var jsonObject: Any {
        switch self {
        case .text(let s): return s
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? Int64(d) as Any : d as Any
        case .bool(let b): return b
        case .null: return NSNull()
        }
    }

    /// For CSV and the content hash.
    public var text: String {
        switch self {
        case .text(let s): return s
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        }
    }
}

/// One customer as a destination should hold it for one audience (the "desired state"): holdout
/// members are never in it.
public struct DesiredMember: Sendable, Equatable {
    public var audience: String
    public var customerId: String
    /// A CRM destination's record id (the state is then kept per record, not per customer).
    public var recordId: String?
    /// The destination's fields, in its `fields:` order, already masked for it.
    public var fields: [(name: String, value: SyncValue)]
    /// Folded into the content hash besides the fields: a CRM record's current values, so a CRM edit
    /// Steward overwrites (`steward_wins`) is written again although Steward's values did not change.
    public var hashSalt: String = ""

    public init(audience: String, customerId: String, recordId: String? = nil, fields: [(name: String, value: SyncValue)],
                hashSalt: String = "") {
        self.audience = audience
        self.customerId = customerId
        self.recordId = recordId
        self.fields = fields
        self.hashSalt = hashSalt
    }

    /// What the destination's state is kept by, with the audience.
    public var stateKey: String { recordId ?? customerId }

    public static func == (a: DesiredMember, b: DesiredMember) -> Bool {
        a.audience == b.audience && a.customerId == b.customerId && a.recordId == b.recordId
            && a.fields.elementsEqual(b.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The hash a destination's state keeps: it changes exactly when a field the destination receives
    /// changes (or the field list does).
    public var contentHash: String {
        var hasher = SHA256()
        for f in fields {
            hasher.update(Array(f.name.utf8)); hasher.update([0x1F])
            switch f.value {
            case .null: hasher.update([0x00])
            default: hasher.update([0x01]); hasher.update(Array(f.value.text.utf8))
            }
            hasher.update([0x1E])
        }
        if !hashSalt.isEmpty { hasher.update([0x1D]); hasher.update(Array(hashSalt.utf8)) }
        return String(hasher.finalize().prefix(32))
    }
}

/// What a destination has to be sent.
public enum SyncOp: String, Sendable, Equatable, CaseIterable { case add, update, remove }

public struct SyncChange: Sendable, Equatable {
    public var op: SyncOp
    public var audience: String
    /// The state key: the customer id (a CRM destination: the CRM record id).
    public var customerId: String
    public var contentHash: String
    /// The member's fields (empty for a remove).
    public var fields: [(name: String, value: SyncValue)]
    /// The golden customer id sent when the state key is a CRM record id.
    public var sentCustomerId: String?

    public init(op: SyncOp, audience: String, customerId: String, contentHash: String, fields: [(name: String, value: SyncValue)],
                sentCustomerId: String? = nil) {
        self.op = op; self.audience = audience; self.customerId = customerId; self.contentHash = contentHash; self.fields = fields
        self.sentCustomerId = sentCustomerId
    }

    public static func == (a: SyncChange, b: SyncChange) -> Bool {
        a.op == b.op && a.audience == b.audience && a.customerId == b.customerId && a.contentHash == b.contentHash
            && a.fields.elementsEqual(b.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// The changes that bring a destination from what it holds to the desired state.
public enum SyncPlan {
    public struct Key: Hashable, Sendable {
        public var audience: String
        public var customerId: String
        public init(audience: String, customerId: String) { self.audience = audience; self.customerId = customerId }
    }

    /// mirror: adds, updates and removes; upsert: adds and updates only (a customer who left stays in
    /// the destination; an erased one does not). `held` is what the destination holds now (key →
    /// content hash). Ordered by audience, then customer id, so a plan is the same for the same inputs.
    public static func changes(held: [Key: String], desired: [DesiredMember], mode: DestinationConfig.Mode) -> [SyncChange] {
        var out: [SyncChange] = []
        var wanted = Set<Key>()
        wanted.reserveCapacity(desired.count)
        for m in desired {
            let key = Key(audience: m.audience, customerId: m.stateKey)
            guard wanted.insert(key).inserted else { continue }
            let hash = m.contentHash
            let sent = m.recordId == nil ? nil : m.customerId
            switch held[key] {
            case nil:
                out.append(SyncChange(op: .add, audience: m.audience, customerId: m.stateKey, contentHash: hash, fields: m.fields, sentCustomerId: sent))
            case let h? where h != hash:
                out.append(SyncChange(op: .update, audience: m.audience, customerId: m.stateKey, contentHash: hash, fields: m.fields, sentCustomerId: sent))
            default: break
            }
        }
        // An erased person (`steward forget`) is removed from every destination, whatever its mode.
        for (key, hash) in held where !wanted.contains(key) && (mode == .mirror || hash == ActivationErasure.erasedHash) {
            out.append(SyncChange(op: .remove, audience: key.audience, customerId: key.customerId, contentHash: hash, fields: []))
        }
        out.sort { ($0.audience, $0.customerId) < ($1.audience, $1.customerId) }
        return out
    }
}
