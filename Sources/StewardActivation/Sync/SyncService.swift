import Foundation
import StewardCatalog
import StewardConfig
import StewardPipeline

/// The desired state of an audience destination, from the audiences as last materialised: every
/// member that is not held out, with the destination's fields. Personal fields are masked by the
/// project's policy (`PIIPolicy`, the same masks every screen uses) unless the destination is
/// declared `pii: true`, which receives them opened from the vault.
public enum AudienceFeed {
    public static func desired(for destination: DestinationConfig, config: ProjectConfig, catalog: Catalog) throws -> [DesiredMember] {
        var out: [DesiredMember] = []
        for audience in destination.audiences {
            let members = try catalog.audienceMembers(audience).filter { !$0.holdout }
            guard !members.isEmpty else { continue }
            let traits = try CustomerTraits.load(catalog, ids: members.map(\.customerId), config: config, traits: destination.fields)
            out.reserveCapacity(out.count + members.count)
            for m in members {
                guard let values = traits[m.customerId] else { continue }   // no longer an active customer
                out.append(DesiredMember(audience: audience, customerId: m.customerId,
                                         fields: fields(values, customerId: m.customerId, destination: destination, config: config)))
            }
        }
        return out
    }

    /// One customer's fields as `destination` receives them, in its order.
    static func fields(_ values: [String: TraitValue], customerId: String, destination: DestinationConfig,
                       config: ProjectConfig) -> [(name: String, value: SyncValue)] {
        destination.fields.map { name in
            if name == "customer_id" { return (name, .text(customerId)) }
            guard let v = values[name] else { return (name, .null) }
            if !destination.pii, let kind = Traits.piiKind(name, sources: config.sources) {
                return (name, PIIPolicy.display(v.text, kind: kind, reveal: false).map(SyncValue.text) ?? .null)
            }
            return (name, SyncValue(v))
        }
    }
}

extension SyncValue {
    init(_ trait: TraitValue) {
        switch trait {
        case .number(let n): self = .number(n)
        case .bool(let b): self = .bool(b)
        case .text(let t), .date(let t): self = .text(t)
        }
    }
}

/// Syncs the project's destinations: each on its own, a failure recorded and never fatal to the others
/// or to the caller (a run, `steward sync`).
public struct SyncService: Sendable {
    public let config: ProjectConfig
    public let catalog: Catalog
    public var now: @Sendable () -> Date = { Date() }
    /// Replaces a destination's delivery (tests, the benchmark); nil: the one it declares.
    public var deliveryOverride: (@Sendable (DestinationConfig) -> DestinationDelivery?)?

    public init(config: ProjectConfig, catalog: Catalog) {
        self.config = config
        self.catalog = catalog
    }

    public struct Outcome: Sendable {
        public var destination: String
        public var record: DestinationSyncRecord?
        /// Set when the destination could not even be planned (the catalog could not be read).
        public var error: String?
    }

    /// Syncs every destination, or the one named (nil when no destination has that name).
    public func syncAll(only name: String? = nil, runId: Int64? = nil) -> [Outcome] {
        var outcomes: [Outcome] = []
        for destination in config.destinations where name == nil || destination.name == name {
            do {
                let desired: [DesiredMember]
                if destination.kind == .crm {
                    desired = try CRMWriteBack(config: config, catalog: catalog, destination: destination, now: now).desired()
                } else {
                    desired = try AudienceFeed.desired(for: destination, config: config, catalog: catalog)
                }
                var syncer = DestinationSyncer(catalog: catalog, destination: destination,
                                               delivery: deliveryOverride?(destination) ?? DestinationSyncer.delivery(for: destination, catalog: catalog))
                syncer.now = now
                outcomes.append(Outcome(destination: destination.name, record: try syncer.sync(desired: desired, runId: runId)))
            } catch {
                outcomes.append(Outcome(destination: destination.name, record: nil, error: "\(error)"))
            }
        }
        return outcomes
    }
}

/// After audiences are materialised in a run: measures each audience's lift, then syncs every
/// destination. Never fails the run: a destination's failure is its own sync's outcome.
public struct DestinationSyncStep: RunExtension {
    public let name = "sync"
    public init() {}

    public func afterLoad(runId: Int64, summary: RunSummary, config: ProjectConfig, catalog: Catalog,
                          progress: ProgressReporter) throws -> String? {
        var parts: [String] = []
        if !config.audiences.isEmpty {
            let measured = try AudienceLift.refresh(catalog, audiences: config.audiences.map { ($0.name, $0.window) })
            parts.append("lift measured for \(measured.count) audience\(measured.count == 1 ? "" : "s")")
        }
        guard !config.destinations.isEmpty else { return parts.isEmpty ? nil : parts.joined(separator: "; ") }
        let outcomes = SyncService(config: config, catalog: catalog).syncAll(runId: runId)
        let failed = outcomes.filter { $0.record?.status != "ok" }
        let sent = outcomes.compactMap(\.record).reduce(0) { $0 + $1.adds + $1.updates + $1.removes }
        parts.append("synced \(outcomes.count - failed.count) of \(outcomes.count) destination\(outcomes.count == 1 ? "" : "s") (\(sent) changes sent)"
                     + (failed.isEmpty ? "" : "; failed: \(failed.map(\.destination).joined(separator: ", "))"))
        return parts.joined(separator: "; ")
    }
}
