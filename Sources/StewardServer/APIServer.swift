import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle
import StewardActivation
import StewardCatalog
import StewardConfig
import StewardIdentity
import StewardMetrics
import StewardPipeline
import UnixSignals

/// `steward serve`: the catalog's read API over HTTP (Hummingbird 2). Every body is built by the
/// engine's typed queries and `APIBodies`, never by SQL here; every answer needs a bearer token
/// but the bare health status.
///
/// ```swift
/// let server = try APIServer(config: config, catalog: catalog, options: ServerOptions(listen: "127.0.0.1:0"))
/// try await server.run { port in print("listening on \(port)") }   // until SIGTERM or Ctrl-C
/// ```
public final class APIServer: Sendable {
    public let config: ProjectConfig
    public let catalog: Catalog
    public let options: ServerOptions
    let changes: CatalogChangeCounter
    /// Distinguishes this process's ETags from an earlier one's (whose change counter started elsewhere).
    let epoch: String
    let logger: Logger
    let log: @Sendable (String) -> Void
    /// Requests per token and second (`ServerOptions.requestsPerSecond`).
    let limiter: RateLimiter
    /// The incremental matching pass for pushed person records.
    let matches: MatchScheduler
    /// The staged and flagged counts of sources pushed to, recounted within a second of a push, or
    /// later under a steady load (`recountShare`) (`EventIntake.refreshCounts`; a batch leaves them,
    /// each is a scan of the whole source).
    let counts: MatchScheduler
    /// Requests answered in the last minute, for the console's header (`ServePresence`).
    let requests = RequestRate()
    /// Bodies built for the catalog as it is now (`cached`).
    let bodies = ResponseCache()
    /// Tokens read from the catalog, while it stays the same.
    let tokens = APITokenCache()
    /// Bodies being built now: a request for one waits for it instead of building it again.
    let building = InFlight<Data>()
    /// Writes pushed requests, concurrent ones in one transaction.
    let intakeGroups: GroupCommitter

    /// The most of one core that recounting pushed sources may take (`MatchScheduler.share`).
    static let recountShare = 0.1

    /// How long a body that moves with the clock (health, sources' freshness, KPIs) is reused.
    static let clockBodyMaxAge: TimeInterval = 5

    /// At most this many results from `/v1/customers` and `/v1/runs`.
    public static let maximumLimit = 1_000

    public init(config: ProjectConfig, catalog: Catalog, options: ServerOptions,
                log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws {
        self.config = config
        self.catalog = catalog
        self.options = options
        self.changes = try CatalogChangeCounter(catalog: catalog)
        self.epoch = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
        var logger = Logger(label: "steward.serve")
        // Hummingbird's own lines (listening, connection errors) only when they matter; requests are
        // logged by `AccessLog` without their query strings, which may hold an email or a phone.
        logger.logLevel = .warning
        self.logger = logger
        self.log = log
        limiter = RateLimiter(requestsPerSecond: options.requestsPerSecond)
        let matcher = IncrementalMatch(config: config, catalog: catalog)
        matches = MatchScheduler { records, runId in
            do {
                let outcome = try matcher.match(records, runId: runId)
                if !outcome.skipped {
                    log("steward serve: matched \(records.count) pushed records (\(outcome.joined) joined, \(outcome.created) new, \(outcome.updated) updated)")
                }
            } catch {
                // Its text may quote a value: the kind only. The next `steward run` matches them all.
                log("steward serve: incremental matching failed: \(type(of: error))")
            }
        }
        let intake = EventIntake(config: config, catalog: catalog)
        intakeGroups = GroupCommitter(intake: intake)
        // A recount reads every staged row of the source (a second at a few million pushed events):
        // paced to a tenth of a core, it no longer takes half of one from the pushes themselves
        // (issue 19, ack p99). Pushes far apart are still counted within a second.
        counts = MatchScheduler(delay: .seconds(1), share: Self.recountShare) { pushed, _ in
            do { try intake.refreshCounts(sources: Set(pushed.map(\.source))) } catch {
                log("steward serve: recounting staged rows failed: \(type(of: error))")
            }
        }
        // http sources need their catalog rows (stats, checks) before the first push, and their
        // counts as of now (a server stopped by SIGKILL may have left them behind).
        let http = Set(config.sources.filter { $0.format == .http }.map(\.name))
        if !http.isEmpty {
            try PipelineRunner(config: config, catalog: catalog).syncDefinitions()
            try intake.refreshCounts(sources: http)
        }
    }

    /// Serves until one of `signals` arrives (or the task is cancelled), then stops accepting, lets the
    /// requests in flight finish, and returns. `onListening` gets the bound port (useful with port 0).
    public func run(signals: [UnixSignal] = [.sigterm, .sigint], onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let router = Router()
        router.add(middleware: APIErrorMiddleware(log: log, requests: requests))
        addRoutes(router)
        let port = options.port
        let app = Application(
            router: router, server: try serverBuilder(),
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: port), serverName: "steward"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                // The console in another process shows the server while this beats (`ServePresence`).
                self.running.setBeat(Task { await self.beat(port: bound) })
                onListening(bound)
            },
            logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: signals, logger: logger))
        running.set(group)
        do { try await group.run() } catch { await running.stopBeat(); counts.flush(); throw error }
        await running.stopBeat()
        // The counts of the last pushes are in the catalog before `serve` exits.
        counts.flush()
    }

    /// Stops a `run` as a SIGTERM would: no new connections, requests in flight answered.
    public func shutdown() async {
        await running.get()?.triggerGracefulShutdown()
    }

    let running = Running()

    /// The service group of the current `run`, for `shutdown`.
    final class Running: @unchecked Sendable {
        private let lock = NSLock()
        private var group: ServiceGroup?
        func set(_ group: ServiceGroup) { lock.lock(); self.group = group; lock.unlock() }
        func get() -> ServiceGroup? { lock.lock(); defer { lock.unlock() }; return group }
        private var beat: Task<Void, Never>?
        func setBeat(_ task: Task<Void, Never>) { lock.lock(); beat = task; lock.unlock() }
        /// Ends the heartbeat, which removes the server's record as it stops.
        func stopBeat() async {
            let task = lock.withLock { () -> Task<Void, Never>? in defer { beat = nil }; return beat }
            task?.cancel()
            await task?.value
        }
    }

    func serverBuilder() throws -> HTTPServerBuilder {
        guard let certPath = options.tlsCertificatePath, let keyPath = options.tlsKeyPath else { return .http1() }
        let chain: [NIOSSLCertificate], key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(certPath) } catch {
            throw ServeError.usage("\(certPath): not a PEM certificate (--tls-cert): \(error)")
        }
        do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch {
            throw ServeError.usage("\(keyPath): not a PEM private key (--tls-key): \(error)")
        }
        if chain.isEmpty { throw ServeError.usage("\(certPath): holds no certificate (--tls-cert)") }
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        return try .tls(.http1(), tlsConfiguration: tls)
    }

    // MARK: Routes

    func addRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/v1/health", use: health)
        router.get("/v1/sources", use: sources)
        router.get("/v1/quality", use: quality)
        router.get("/v1/kpis", use: kpis)
        router.get("/v1/runs", use: runs)
        router.get("/v1/roadmap", use: roadmap)
        router.get("/v1/customers", use: customers)
        router.get("/v1/customers/lookup", use: lookup)
        router.get("/v1/customers/:id", use: customer)
        router.post("/v1/events/:source", use: events)
        router.get("/openapi.json") { _, _ in Self.json(OpenAPIDocument.json) }
    }

    @Sendable func health(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        // The bare verdict is for load balancers and uptime checks; the problems behind it need `read`.
        let token = try await authenticate(request, required: false)
        let details = token?.scope.allows(.read) ?? false
        let variant = details ? "details" : "bare"
        return try await cached(request, variant: variant, maxAge: Self.clockBodyMaxAge) { () throws -> Any in
            let report = try HealthCheck(config: self.config, catalog: self.catalog).report(storeMeasurements: false)
            let body: [String: Any] = details ? APIBodies.health(report) : ["status": report.status.rawValue]
            return body
        }
    }

    @Sendable func sources(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try await authorize(request, needs: .read)
        return try await cached(request, maxAge: Self.clockBodyMaxAge) { () throws -> Any in
            APIBodies.status(project: self.config.name, sources: try self.catalog.sourceOverviews(), lastRun: try self.catalog.lastRun())
        }
    }

    @Sendable func quality(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try await authorize(request, needs: .read)
        return try await cached(request) { () throws -> Any in APIBodies.quality(try self.catalog.qualityOverview()) }
    }

    @Sendable func kpis(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try await authorize(request, needs: .read)
        // Measured, not stored: a GET leaves the catalog as it was (`steward kpi` and runs store them).
        return try await cached(request, maxAge: Self.clockBodyMaxAge) { () throws -> Any in
            try KPIEvaluator(config: self.config, catalog: self.catalog).evaluate(store: false).map(APIBodies.kpi)
        }
    }

    @Sendable func runs(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try await authorize(request, needs: .read)
        let limit = try Self.limit(request, default: 20)
        // A run shows `interrupted` once its process is gone, with no commit: the clock's few seconds.
        return try await cached(request, maxAge: Self.clockBodyMaxAge) { () throws -> Any in APIBodies.runs(try self.catalog.runs(limit: limit)) }
    }

    /// The console's search (`CustomerSearch`): names, emails, phones in any format, postcodes, ids.
    @Sendable func customers(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let reveal = try Self.reveal(request)
        let token = try await authorize(request, needs: reveal ? .pii : .read)
        let limit = try Self.limit(request, default: 20)
        guard let query = request.uri.queryParameters.get("q")?.trimmingCharacters(in: .whitespaces), !query.isEmpty else {
            throw APIError(.badRequest, "missing_query", "give ?q= with a name, email, phone, postcode or customer id")
        }
        if reveal { return try await revealedSearch(query: query, limit: limit, token: token) }
        return try await cachedJSON(request) {
            APIBodies.searchJSON(try self.catalog.pool.read { try CustomerSearch.search($0, query: query, limit: limit) }, reveal: false)
        }
    }

    @Sendable func customer(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let reveal = try Self.reveal(request)
        let token = try await authorize(request, needs: reveal ? .pii : .read)
        if reveal { return try await revealedCustomer(id: id, token: token) }
        return try await cached(request) { () throws -> Any in try self.customerBody(self.customer360(id), reveal: false) }
    }

    /// The CLI's `customer show --json` body: the 360 and what activation knows of the customer.
    func customerBody(_ c: Customer360, reveal: Bool) throws -> [String: Any] {
        let activation = try catalog.pool.read { try CustomerActivationProfile.load($0, customerId: c.customerId, config: self.config) }
        return APIBodies.customer(c, activation: activation, reveal: reveal)
    }

    /// The 360 record, or 410 for an id erased on request (the tombstone says only that), or 404.
    func customer360(_ id: String) throws -> Customer360 {
        if let c = try catalog.pool.read({ try Customer360.load($0, id: id) }) { return c }
        if try catalog.pool.read({ try Erasure.request($0, customerId: id) }) != nil {
            throw APIError(.gone, "erased", "customer \(id) was erased on request")
        }
        throw APIError(.notFound, "not_found", "no customer \(id)")
    }

    /// A reveal is audited before anything is shown, naming the token; it is never cached.
    func revealedCustomer(id: String, token: APIToken) async throws -> Response {
        let body = try await blocking { () -> Data in
            let c = try self.customer360(id)
            // Without the vault's key nothing can be revealed: the values read [sealed] and no reveal is audited.
            if case .locked = self.catalog.vault.state {} else {
                try self.catalog.pool.write { db in
                    try Customer360.auditReveal(db, customerId: c.customerId, via: "GET /v1/customers/\(id)?reveal=true (token \(token.name))",
                                                actor: "token:\(token.name)")
                }
            }
            return APIBodies.encode(try self.customerBody(c, reveal: true))
        }
        return Self.json(body, headers: [.cacheControl: "no-store"])
    }

    func revealedSearch(query: String, limit: Int, token: APIToken) async throws -> Response {
        let body = try await blocking { () -> Data in
            let hits = try self.catalog.pool.read { try CustomerSearch.search($0, query: query, limit: limit) }
            // The query itself is not recorded: a search by email or phone would copy it into the audit trail.
            if case .locked = self.catalog.vault.state {} else {
                try self.catalog.audit(action: "reveal", subject: "search",
                                       detail: "GET /v1/customers?reveal=true (token \(token.name)): \(hits.count) customers: "
                                           + hits.map(\.customerId).joined(separator: ","),
                                       actor: "token:\(token.name)")
            }
            return APIBodies.searchJSON(hits, reveal: true)
        }
        return Self.json(body, headers: [.cacheControl: "no-store"])
    }

    // MARK: Authentication

    /// The bearer's token, checked against the catalog (only digests are stored there). With
    /// `required: false` a request without an Authorization header is anonymous (nil); a header with a
    /// token that is unknown, revoked or expired is always a 401.
    func authenticate(_ request: Request, required: Bool = true) async throws -> APIToken? {
        guard let header = request.headers[.authorization] else {
            if required { throw APIError(.unauthorized, "unauthorized", "send Authorization: Bearer TOKEN (`steward token create` makes one)") }
            return nil
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIError(.unauthorized, "unauthorized", "the Authorization header must be `Bearer TOKEN`")
        }
        let presented = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let token = try await blocking { () -> APIToken? in
            guard let token = try self.tokens.authenticate(self.catalog, token: presented, counter: try self.changes.current()) else { return nil }
            try self.catalog.noteAPITokenUse(token)
            return token
        }
        guard let token else { throw APIError(.unauthorized, "unauthorized", "the token is unknown, revoked or expired") }
        if let wait = limiter.take(token.name) {
            throw APIError(.tooManyRequests, "rate_limited",
                           "token '\(token.name)' sent more than \(Int(limiter.rate)) requests a second; retry in \(wait) s",
                           headers: [.retryAfter: String(wait)])
        }
        return token
    }

    /// The token, if its scope covers `needs` (401 without one, 403 outside its scope).
    func authorize(_ request: Request, needs: APITokenScope) async throws -> APIToken {
        guard let token = try await authenticate(request) else {
            throw APIError(.unauthorized, "unauthorized", "send Authorization: Bearer TOKEN")
        }
        guard token.scope.allows(needs) else {
            let why = needs == .pii ? "?reveal=true needs a token of scope pii" : "this needs a token of scope \(needs.rawValue)"
            throw APIError(.forbidden, "forbidden", "token '\(token.name)' has scope \(token.scope.rawValue); \(why)")
        }
        return token
    }

    // MARK: Caching

    /// The body `produce` builds, with an ETag from the catalog's change counter; a request whose
    /// If-None-Match carries the current ETag gets 304 without the query being run, and one for a
    /// body already built since the last commit gets it from `bodies` without the query either. `variant` keeps
    /// apart bodies of one URL that differ by who asks (the bare and the detailed health).
    /// `maxAge`: how long a body may be reused while the catalog stays the same (nil: as long as it
    /// does); bodies that move with the clock alone give a few seconds.
    func cached(_ request: Request, variant: String = "", maxAge: TimeInterval? = nil,
                _ produce: @escaping @Sendable () throws -> Any) async throws -> Response {
        try await cachedJSON(request, variant: variant, maxAge: maxAge) { APIBodies.encode(try produce()) }
    }

    /// `cached` for a body its producer encodes itself (`APIBodies.searchJSON`).
    func cachedJSON(_ request: Request, variant: String = "", maxAge: TimeInterval? = nil,
                    _ produce: @escaping @Sendable () throws -> Data) async throws -> Response {
        let key = "\(request.uri.path)?\(Self.sortedQuery(request))#\(variant)"
        let (etag, counter) = try await blocking { () -> (String, UInt64) in
            let counter = try self.changes.current()
            return ("\"\(self.epoch)-\(counter)-\(String(Self.fnv1a(key), radix: 36))\"", counter)
        }
        if let match = request.headers[.ifNoneMatch],
           match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*" }) {
            return Response(status: .notModified, headers: [.eTag: etag, .cacheControl: "private, no-cache"])
        }
        if let body = bodies.body(key, counter: counter) {
            return Self.json(body, headers: [.eTag: etag, .cacheControl: "private, no-cache"])
        }
        // The same body asked again while it is built (a burst of one search) is built once: the
        // later requests wait for it, where each built its own and took a core from the others.
        let flight = "\(key)@\(counter)"
        if let shared = try await building.join(flight) {
            return Self.json(shared, headers: [.eTag: etag, .cacheControl: "private, no-cache"])
        }
        let built: Result<Data, Error>
        do { built = .success(try await blocking(produce)) } catch { built = .failure(error) }
        if case .success(let body) = built { bodies.store(body, key, counter: counter, maxAge: maxAge) }
        building.finish(flight, built)
        let body = try built.get()
        return Self.json(body, headers: [.eTag: etag, .cacheControl: "private, no-cache"])
    }

    static func sortedQuery(_ request: Request) -> String {
        request.uri.queryParameters.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "&")
    }

    /// FNV-1a, 64 bits: a short, stable name for a URL inside an ETag (not a security boundary).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    // MARK: Helpers

    static func json(_ body: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func reveal(_ request: Request) throws -> Bool {
        switch request.uri.queryParameters.get("reveal") {
        case nil, "false", "0": return false
        case "true", "1": return true
        default: throw APIError(.badRequest, "bad_parameter", "reveal must be true or false")
        }
    }

    static func limit(_ request: Request, default value: Int) throws -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return value }
        guard let limit = Int(text), (1...maximumLimit).contains(limit) else {
            throw APIError(.badRequest, "bad_parameter", "limit must be a whole number from 1 to \(maximumLimit)")
        }
        return limit
    }
}

/// An answer other than 2xx, rendered as `{"error": {"code", "message"}}`. Messages name what was
/// wrong, never a value the client sent (it may be an email or a phone).
struct APIError: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Sent with the error body (Retry-After with a 429).
    var headers: HTTPFields

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }
}

/// Turns every failure into the API's error body and logs one line per request: method, path (never
/// the query string), status and time.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let log: @Sendable (String) -> Void
    let requests: RequestRate

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = Self.errorResponse(error.status, code: error.code, message: error.message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            // The router's own answers: no such route (404), a method the route does not take (405).
            let code = error.status == .notFound ? "not_found" : error.status == .methodNotAllowed ? "method_not_allowed" : "http_\(error.status.code)"
            response = Self.errorResponse(error.status, code: code, message: error.status == .notFound ? "no such endpoint" : error.status.reasonPhrase)
        } catch {
            // The error's text can carry a value from the catalog: the log and the client get its kind only.
            log("steward serve: \(request.method) \(request.uri.path) failed: \(type(of: error))")
            response = Self.errorResponse(.internalServerError, code: "internal", message: "the server could not answer (see its log)")
        }
        let ms = (ContinuousClock.now - started) / .milliseconds(1)
        requests.note()
        log("\(request.method) \(request.uri.path) \(response.status.code) \(String(format: "%.1f", ms))ms")
        return response
    }

    static func errorResponse(_ status: HTTPResponse.Status, code: String, message: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return APIServer.json(APIBodies.encode(APIBodies.error(code: code, message: message)), status: status, headers: headers)
    }
}

/// Runs synchronous engine work (SQLite through GRDB) off Swift's cooperative pool, which has one
/// thread per core: a slow query must not stall every other request on a 2-core machine.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
