import Foundation
import StewardCatalog
import StewardIdentity

/// What the Customers pane asks of the catalog. Each is answered by one `CustomerReply`.
public enum CustomerRequest: Equatable, Sendable {
    /// How many customers and review pairs there are (the empty states and the title).
    case summary
    case search(String)
    case load(String)
    case explain(String, String)
    case review
    /// Audits a reveal of these customers' PII; the pane unmasks only once it is written.
    case reveal([String], via: String)
    case decide(String, String, accept: Bool)
    /// Which of these shown customers were erased since (another process may run `steward forget`),
    /// and the newest erasure's id.
    case erasures([String])

    /// One request of a kind is in flight at a time; a newer wish waits for its answer.
    var kind: String {
        switch self {
        case .summary: return "summary"
        case .search: return "search"
        case .load: return "load"
        case .explain: return "explain"
        case .review: return "review"
        case .reveal: return "reveal"
        case .decide: return "decide"
        case .erasures: return "erasures"
        }
    }

    /// Identifies a failed request, so the pane does not ask again in a loop.
    var key: String {
        switch self {
        case .search(let q): return "search:\(q)"
        case .load(let id): return "load:\(id)"
        case .explain(let a, let b): return "explain:\(a)|\(b)"
        default: return kind
        }
    }
}

public enum CustomerReply: Sendable {
    case summary(customers: Int, reviewPairs: Int)
    case found(query: String, hits: [CustomerSearch.Hit], milliseconds: Double)
    case loaded(id: String, Customer360?)
    case explained(Explanation)
    case review([ReviewQueue.Item])
    case revealed([String], actor: String)
    case decided(String, String, accept: Bool)
    /// The answer to `.erasures`: erased customer id → when, and the newest erasure request's id.
    case erasures(latest: Int64, erased: [String: String])
    /// The customer asked to load was erased on request (when): there is nothing of it to show.
    case erasedOnLoad(id: String, at: String)
    /// A reveal refused because these customers were erased (id → when); nothing was audited.
    case revealRefused(erased: [String: String])
    case failed(CustomerRequest, String)
}

/// Answers the Customers pane through the identity engine's query API, off the main actor. It opens
/// the catalog for writing when it can: lookups are timed for the query-performance KPI, reveals are
/// audited and review decisions stored. Read-only (`--read-only`, or a catalog this user cannot
/// write), it searches untimed and refuses reveals and decisions. It never creates a catalog.
public actor CustomerSource {
    public let url: URL?
    public let threshold: Double
    public let readOnly: Bool
    private var catalog: Catalog?
    private var writeError: String?
    private var explainer: Explainer?

    public init(url: URL?, threshold: Double, readOnly: Bool = false) {
        self.url = url; self.threshold = threshold; self.readOnly = readOnly
        if readOnly { writeError = "the console was started with --read-only" }
    }

    public func perform(_ request: CustomerRequest) -> CustomerReply {
        do {
            return try answer(request)
        } catch {
            return .failed(request, "\(error)")
        }
    }

    private func answer(_ request: CustomerRequest) throws -> CustomerReply {
        let catalog = try open()
        switch request {
        case .summary:
            return try catalog.pool.read { db in
                .summary(customers: try Customer360.count(db), reviewPairs: try ReviewQueue.count(db))
            }
        case .search(let query):
            let started = Date()
            let hits = writeError == nil ? try CustomerSearch.timedSearch(catalog, query: query, limit: 50)
                : try catalog.pool.read { try CustomerSearch.search($0, query: query, limit: 50) }
            return .found(query: query, hits: hits, milliseconds: Date().timeIntervalSince(started) * 1000)
        case .load(let id):
            return try catalog.pool.read { db in
                // Checked in the same read as the load: an erasure in between cannot slip through.
                if let at = try Erasure.erased(db, among: [id])[id] { return .erasedOnLoad(id: id, at: at) }
                return .loaded(id: id, try Customer360.load(db, id: id))
            }
        case .explain(let a, let b):
            return .explained(try catalog.pool.read { db in
                // The name frequencies are read once per matching pass, not once per pair.
                let latest = try Explainer.latestRun(db)
                if explainer == nil || explainer?.runId != latest { explainer = try Explainer(db, threshold: threshold) }
                return try explainer!.explain(db, a, b)
            })
        case .review:
            return .review(try catalog.pool.read { try ReviewQueue.items($0, limit: 500) })
        case .reveal(let ids, let via):
            try writable()
            let actor = Catalog.osUser
            // The erasure check and the audit share one transaction: an erased customer's PII is
            // never revealed (there is none to show) and no reveal of it is recorded.
            let erased = try catalog.pool.write { db -> [String: String] in
                let erased = try Erasure.erased(db, among: ids)
                guard erased.isEmpty else { return erased }
                for id in ids { try Customer360.auditReveal(db, customerId: id, via: via, actor: actor) }
                return [:]
            }
            return erased.isEmpty ? .revealed(ids, actor: actor) : .revealRefused(erased: erased)
        case .erasures(let ids):
            return try catalog.pool.read { db in
                .erasures(latest: try Erasure.latestRequestId(db), erased: try Erasure.erased(db, among: ids))
            }
        case .decide(let a, let b, let accept):
            try writable()
            try catalog.pool.write { try ReviewQueue.decide($0, a, b, accept: accept) }
            return .decided(a, b, accept: accept)
        }
    }

    private func writable() throws {
        if let writeError { throw CustomerSourceError.readOnly(writeError) }
    }

    private func open() throws -> Catalog {
        if let catalog { return catalog }
        guard let url else { throw ConsoleError.noProject }
        guard FileManager.default.fileExists(atPath: url.path) else { throw CatalogError.missing(url.path) }
        let opened: Catalog
        do {
            opened = try Catalog.open(at: url, readOnly: readOnly)
        } catch where !readOnly {
            // A catalog this user cannot write can still be searched; reveals and decisions then refuse.
            opened = try Catalog.open(at: url, readOnly: true)
            writeError = "\(error)"
        }
        catalog = opened
        return opened
    }
}

enum CustomerSourceError: Error, CustomStringConvertible {
    case readOnly(String)
    var description: String {
        switch self {
        case .readOnly(let why): return "the catalog cannot be written, so this is refused (it must be audited): \(why)"
        }
    }
}
