import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardServer

/// `steward serve` over real HTTP on a loopback port: auth and scopes, masking and audited reveals,
/// bodies equal to the CLI's `--json`, ETags, 404/410.
extension ServeTests {
@Suite struct API {
    @Test func tokensAreNeededAndScopesAreEnforced() async throws {
        let demo = try await ServeDemo.shared.value
        let server = try await RunningServer.start(demo)
        defer { Task { await server.stop() } }
        let read = try demo.token(.read), write = try demo.token(.write), pii = try demo.token(.pii)

        let anonymous = try await server.get("/v1/sources")
        #expect(anonymous.status == 401)
        #expect(anonymous.errorCode == "unauthorized")
        #expect(anonymous.header("WWW-Authenticate") == "Bearer")
        #expect(try await server.get("/v1/sources", token: "stw_not-a-real-token").status == 401)
        #expect(try await server.get("/v1/sources", token: write.token).status == 403)
        #expect(try await server.get("/v1/sources", token: read.token).status == 200)
        #expect(try await server.get("/v1/sources", token: pii.token).status == 200, "pii includes read")
        #expect(try await server.get("/v1/customers/C1?reveal=true", token: read.token).status == 403)

        // The bare health verdict needs no token; the problems behind it need `read`.
        let bare = try await server.get("/v1/health")
        #expect(bare.status == 200)
        #expect(Set(bare.object.keys) == ["status"])
        let detailed = try await server.get("/v1/health", token: read.token)
        #expect(detailed.object["problems"] is [Any])
        #expect(detailed.object["status"] as? String == bare.object["status"] as? String)

        // Revoked and expired tokens stop working at once.
        try demo.catalog.revokeAPIToken(name: read.name, actor: "test")
        #expect(try await server.get("/v1/sources", token: read.token).status == 401)
        let expired = try demo.token(.read, expiresAt: Date().addingTimeInterval(-1))
        #expect(try await server.get("/v1/sources", token: expired.token).status == 401)
        #expect(try demo.auditCount(actor: "test", action: "token_revoke") >= 1)
    }

    @Test func readSeesMaskedPIIAndARevealIsAuditedPerRequest() async throws {
        let demo = try await ServeDemo.shared.value
        let server = try await RunningServer.start(demo)
        defer { Task { await server.stop() } }
        let read = try demo.token(.read), pii = try demo.token(.pii)
        let id = try demo.someCustomerId()

        let masked = try await server.get("/v1/customers/\(id)", token: read.token)
        #expect(masked.status == 200)
        let maskedGolden = try #require(masked.object["golden"] as? [String: Any])
        let email = try #require(maskedGolden["email"] as? String)
        #expect(email.contains("***"))
        #expect(try demo.auditCount(actor: "token:\(read.name)", action: "reveal") == 0)

        let revealed = try await server.get("/v1/customers/\(id)?reveal=true", token: pii.token)
        #expect(revealed.status == 200)
        #expect(revealed.header("Cache-Control") == "no-store")
        #expect(revealed.header("ETag") == nil)
        let golden = try #require(revealed.object["golden"] as? [String: Any])
        let clear = try #require(golden["email"] as? String)
        #expect(!clear.contains("***") && clear.contains("@"))
        // The same as the CLI's --reveal shows.
        let cli = try demo.cli(["customer", "show", id, "--reveal", "--json"]) as? [String: Any]
        #expect((cli?["golden"] as? [String: Any])?["email"] as? String == clear)
        #expect(try demo.auditCount(actor: "token:\(pii.name)", action: "reveal") == 1)
        _ = try await server.get("/v1/customers/\(id)?reveal=true", token: pii.token)
        #expect(try demo.auditCount(actor: "token:\(pii.name)", action: "reveal") == 2, "one audit event per revealing request")
        let subject = try await demo.catalog.pool.read { db in
            try String.fetchOne(db, sql: "SELECT subject FROM audit_event WHERE actor = ? ORDER BY id DESC LIMIT 1",
                                arguments: ["token:\(pii.name)"])
        }
        #expect(subject == "customer:\(id)")

        // A search reveal is audited too, naming the token; a read token's search stays masked.
        let name = try #require((golden["last_name"] as? String) ?? (golden["first_name"] as? String))
        let query = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name
        let hits = try await server.get("/v1/customers?q=\(query)&limit=5", token: read.token)
        let first = try #require((hits.json as? [[String: Any]])?.first)
        #expect((first["email"] as? String).map { $0.contains("***") } ?? true)
        _ = try await server.get("/v1/customers?q=\(query)&limit=5&reveal=true", token: pii.token)
        #expect(try demo.auditCount(actor: "token:\(pii.name)", action: "reveal") == 3)
    }

    @Test func bodiesAreTheCLIsJSON() async throws {
        let demo = try await ServeDemo.shared.value
        let server = try await RunningServer.start(demo)
        defer { Task { await server.stop() } }
        let read = try demo.token(.read)
        let id = try demo.someCustomerId()

        let runs = try await server.get("/v1/runs?limit=5", token: read.token)
        #expect(sameJSON(runs.json, try demo.cli(["runs", "--limit", "5", "--json"])))
        let show = try await server.get("/v1/customers/\(id)", token: read.token)
        #expect(sameJSON(show.json, try demo.cli(["customer", "show", id, "--json"])))
        let search = try await server.get("/v1/customers?q=\(id)&limit=3", token: read.token)
        #expect(sameJSON(search.json, try demo.cli(["customer", "search", id, "--limit", "3", "--json"])))
        #expect((search.json as? [[String: Any]])?.first?["customer_id"] as? String == id)
        let quality = try await server.get("/v1/quality", token: read.token)
        #expect(sameJSON(quality.json, try demo.cli(["quality", "--json"])))

        // Freshness ages move with the clock: everything else of `status --json` is equal.
        func withoutAges(_ body: Any?) -> Any? {
            guard var o = body as? [String: Any], let sources = o["sources"] as? [[String: Any]] else { return body }
            o["sources"] = sources.map { s -> [String: Any] in
                var s = s
                if var f = s["freshness"] as? [String: Any] { f["age_seconds"] = nil; s["freshness"] = f }
                return s
            }
            return o
        }
        let sources = try await server.get("/v1/sources", token: read.token)
        #expect((sources.object["sources"] as? [Any])?.isEmpty == false)
        #expect(sameJSON(withoutAges(sources.json), withoutAges(try demo.cli(["status", "--json"]))))
        let kpis = try await server.get("/v1/kpis", token: read.token)
        let names = (kpis.json as? [[String: Any]])?.compactMap { $0["name"] as? String }
        let cliNames = (try demo.cli(["kpi", "--json"]) as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == cliNames && names?.isEmpty == false)
    }

    @Test func aSecondGetWithTheETagIsNotModifiedUntilTheCatalogChanges() async throws {
        let demo = try await ServeDemo.shared.value
        let server = try await RunningServer.start(demo)
        defer { Task { await server.stop() } }
        let read = try demo.token(.read)
        _ = try await server.get("/v1/runs", token: read.token)   // the token's first use is recorded (a write)

        let first = try await server.get("/v1/runs", token: read.token)
        let etag = try #require(first.header("ETag"))
        let second = try await server.get("/v1/runs", token: read.token, headers: ["If-None-Match": etag])
        #expect(second.status == 304)
        #expect(second.body.isEmpty)
        // Another URL has another ETag.
        let other = try await server.get("/v1/runs?limit=1", token: read.token)
        #expect(other.header("ETag") != etag)
        // Any commit to the catalog, by any connection, moves it.
        try demo.catalog.audit(action: "test", subject: "etag", actor: "test")
        let third = try await server.get("/v1/runs", token: read.token, headers: ["If-None-Match": etag])
        #expect(third.status == 200)
        #expect(third.header("ETag") != etag)
    }

    @Test func unknownAndErasedCustomersAndBadParameters() async throws {
        let demo = try await ServeDemo.shared.value
        let server = try await RunningServer.start(demo)
        defer { Task { await server.stop() } }
        let read = try demo.token(.read)

        let missing = try await server.get("/v1/customers/C999999999", token: read.token)
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
        let route = try await server.get("/v1/nothing-here", token: read.token)
        #expect(route.status == 404)
        #expect(route.errorCode == "not_found")
        #expect(try await server.get("/v1/runs?limit=0", token: read.token).errorCode == "bad_parameter")
        #expect(try await server.get("/v1/customers", token: read.token).status == 400)

        let id = try await demo.catalog.pool.read { db in
            try String.fetchOne(db, sql: "SELECT customer_id FROM golden_customer ORDER BY customer_id DESC LIMIT 1")!
        }
        let forgot = try await offPool { try StewardBinary.run(["forget", id, "--yes", "--project", demo.project.dir.path]) }
        #expect(forgot.status == 0, "\(forgot.stderr)")
        let gone = try await server.get("/v1/customers/\(id)", token: read.token)
        #expect(gone.status == 410)
        #expect(gone.errorCode == "erased")
        #expect(gone.object["error"] != nil && !String(decoding: gone.body, as: UTF8.self).contains("@"))
    }
}
}
