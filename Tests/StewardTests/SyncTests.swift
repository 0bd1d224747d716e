import Foundation
import GRDB
import Testing
@testable import StewardActivation
@testable import StewardCatalog
@testable import StewardConfig

/// Destinations (issue 20): only changes are sent (mirror: add/update/remove; upsert: add/update), in
/// batches whose ids are never reused, a failed batch re-sent with its id, drops written private.
@Suite struct SyncTests {
    static func member(_ audience: String, _ id: String, _ fields: [(String, SyncValue)]) -> DesiredMember {
        DesiredMember(audience: audience, customerId: id, fields: [("customer_id", .text(id))] + fields.map { (name: $0.0, value: $0.1) })
    }

    /// One CRM person source (email, phone, city).
    static let crmProject = """
        name: t
        sources:
          - name: crm
            system: crm
            entity: person
            format: csv
            path: crm.csv
            key: id
            mapping: {email: Email, phone: Phone, city: City}

        """

    static func freshCatalog() throws -> (TempProject, Catalog) {
        let p = TempProject("sync")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent(".steward/catalog.sqlite"))
        return (p, catalog)
    }

    /// The changes of each body the receiver got, as (batch_id, op, customer_id, fields).
    static func changes(_ bodies: [String]) throws -> [(batch: Int64, op: String, customer: String, fields: [String: Any])] {
        var out: [(Int64, String, String, [String: Any])] = []
        for body in bodies {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let batch = try #require((object["batch_id"] as? NSNumber)?.int64Value)
            for c in try #require(object["changes"] as? [[String: Any]]) {
                out.append((batch, c["op"] as! String, c["customer_id"] as! String, c["fields"] as? [String: Any] ?? [:]))
            }
        }
        return out
    }

    @Test func planSendsOnlyChangesAndUpsertNeverRemoves() {
        let held: [SyncPlan.Key: String] = [
            .init(audience: "a", customerId: "C1"): Self.member("a", "C1", [("city", .text("Leeds"))]).contentHash,
            .init(audience: "a", customerId: "C2"): Self.member("a", "C2", [("city", .text("York"))]).contentHash,
            .init(audience: "a", customerId: "C3"): Self.member("a", "C3", [("city", .text("Bath"))]).contentHash,
        ]
        let desired = [Self.member("a", "C1", [("city", .text("Leeds"))]),      // unchanged
                       Self.member("a", "C2", [("city", .text("Hull"))]),       // moved
                       Self.member("a", "C4", [("city", .text("Ely"))])]        // new; C3 left
        let mirror = SyncPlan.changes(held: held, desired: desired, mode: .mirror)
        #expect(mirror.map { "\($0.op.rawValue):\($0.customerId)" } == ["update:C2", "remove:C3", "add:C4"])
        let upsert = SyncPlan.changes(held: held, desired: desired, mode: .upsert)
        #expect(upsert.map { "\($0.op.rawValue):\($0.customerId)" } == ["update:C2", "add:C4"])
        // A field list change is a content change.
        #expect(Self.member("a", "C1", [("city", .text("Leeds"))]).contentHash != Self.member("a", "C1", [("town", .text("Leeds"))]).contentHash)
        #expect(Self.member("a", "C1", [("x", .null)]).contentHash != Self.member("a", "C1", [("x", .text(""))]).contentHash)
    }

    @Test func mirrorAndUpsertPayloadsAgainstALoopbackReceiver() async throws {
        try await offPool {
            let (p, catalog) = try Self.freshCatalog()
            defer { _ = p }
            let receiver = try WebhookListener()
            defer { receiver.stop() }
            for mode in [DestinationConfig.Mode.mirror, .upsert] {
                let destination = DestinationConfig(name: "hook_\(mode.rawValue)", kind: .webhook, audiences: ["vip"], mode: mode,
                                                    fields: ["customer_id", "city", "orders"], url: receiver.url, batchSize: 2)
                let syncer = DestinationSyncer(catalog: catalog, destination: destination,
                                               delivery: WebhookDestination(url: receiver.url, catalog: catalog))
                let before = receiver.received.count
                let first = try syncer.sync(desired: [Self.member("vip", "C1", [("city", .text("Leeds")), ("orders", .number(3))]),
                                                      Self.member("vip", "C2", [("city", .text("York")), ("orders", .number(1))]),
                                                      Self.member("vip", "C3", [("city", .text("Bath")), ("orders", .number(2))])])
                #expect(first.status == "ok" && first.adds == 3 && first.batches == 2, "three adds in batches of two")
                let firstChanges = try Self.changes(Array(receiver.received[before...]))
                #expect(firstChanges.map(\.op) == ["add", "add", "add"])
                #expect(firstChanges[0].fields["city"] as? String == "Leeds" && (firstChanges[0].fields["orders"] as? NSNumber)?.intValue == 3,
                        "numbers stay numbers")
                #expect(Set(firstChanges.map(\.batch)).count == 2)

                // Nothing changed: nothing is sent.
                let quiet = try syncer.sync(desired: [Self.member("vip", "C1", [("city", .text("Leeds")), ("orders", .number(3))]),
                                                      Self.member("vip", "C2", [("city", .text("York")), ("orders", .number(1))]),
                                                      Self.member("vip", "C3", [("city", .text("Bath")), ("orders", .number(2))])])
                #expect(quiet.adds + quiet.updates + quiet.removes == 0 && quiet.batches == 0)

                let mark = receiver.received.count
                let second = try syncer.sync(desired: [Self.member("vip", "C1", [("city", .text("Leeds")), ("orders", .number(4))]),
                                                       Self.member("vip", "C3", [("city", .text("Bath")), ("orders", .number(2))]),
                                                       Self.member("vip", "C9", [("city", .text("Ely")), ("orders", .number(1))])])
                let secondChanges = try Self.changes(Array(receiver.received[mark...]))
                let ops = secondChanges.map { "\($0.op):\($0.customer)" }
                if mode == .mirror {
                    #expect(ops == ["update:C1", "remove:C2", "add:C9"], "mirror: \(ops)")
                    #expect(second.adds == 1 && second.updates == 1 && second.removes == 1)
                    #expect(secondChanges[1].fields.isEmpty, "a remove names the customer only")
                } else {
                    #expect(ops == ["update:C1", "add:C9"], "upsert: \(ops)")
                    #expect(second.removes == 0)
                }
                #expect(Set(secondChanges.map(\.batch)).isDisjoint(with: Set(firstChanges.map(\.batch))), "batch ids are never reused")
            }
            let status = try catalog.destinationSyncHealth()
            #expect(status["hook_mirror"]?.last.removes == 1 && status["hook_upsert"]?.last.status == "ok")
        }
    }

    @Test func aFailedDeliveryIsRetriedWithItsBatchIdAndNoDuplicates() async throws {
        try await offPool {
            let (p, catalog) = try Self.freshCatalog()
            defer { _ = p }
            let receiver = try WebhookListener()
            defer { receiver.stop() }
            let destination = DestinationConfig(name: "hook", kind: .webhook, audiences: ["vip"], mode: .mirror,
                                                fields: ["customer_id", "city"], url: receiver.url, errorAfter: 3600, batchSize: 10)
            var syncer = DestinationSyncer(catalog: catalog, destination: destination, delivery: WebhookDestination(url: receiver.url, catalog: catalog))
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            syncer.now = { t0 }
            let desired = [Self.member("vip", "C1", [("city", .text("Leeds"))]), Self.member("vip", "C2", [("city", .text("York"))])]
            receiver.answer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            let failed = try syncer.sync(desired: desired)
            #expect(failed.status == "failed" && failed.error == "HTTP 503" && failed.pending == 2 && failed.adds == 0)
            let health = try #require(try catalog.destinationSyncHealth()["hook"])
            #expect(health.failingSince == t0)

            // A redirect is a failure too, and is not followed.
            receiver.answer("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            let redirected = try syncer.sync(desired: desired)
            #expect(redirected.status == "failed" && redirected.error?.contains("redirect") == true)

            receiver.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            syncer.now = { t0.addingTimeInterval(60) }
            let retried = try syncer.sync(desired: desired + [Self.member("vip", "C3", [("city", .text("Bath"))])])
            #expect(retried.status == "ok" && retried.adds == 3 && retried.pending == 0)
            let bodies = receiver.received
            #expect(bodies.count == 4, "two failed attempts, the re-send, one new batch")
            #expect(bodies[0] == bodies[1] && bodies[1] == bodies[2], "a re-sent batch is byte for byte the first one, id included")
            let delivered = try Self.changes(Array(bodies[2...]))
            #expect(delivered.map(\.customer) == ["C1", "C2", "C3"], "each change delivered once")
            #expect(delivered[2].batch > delivered[0].batch, "the new batch has a new id")
            #expect(try catalog.destinationSyncHealth()["hook"]?.failingSince == nil)
            // Ids stay taken: a later batch never gets an earlier id back.
            let ids = try catalog.pool.read { try Int64.fetchAll($0, sql: "SELECT id FROM sync_batch ORDER BY id") }
            #expect(ids == [delivered[0].batch, delivered[2].batch])
        }
    }

    /// The body written over bytes is the batch's JSON with sorted keys: the same bytes as
    /// JSONSerialization's sorted writing for plain values, and the same object for awkward ones.
    @Test func theBodyIsTheBatchsSortedJSON() throws {
        let plain = SyncBatchPayload(destination: "hook", batchId: 42, changes: [
            SyncChange(op: .add, audience: "vip", customerId: "C1", contentHash: "h",
                       fields: [("customer_id", .text("C1")), ("city", .text("Leeds/York")), ("orders", .number(3)), ("vip", .bool(true)), ("zip", .null)]),
            SyncChange(op: .update, audience: "crm", customerId: "R7", contentHash: "h", fields: [("email", .text("a@b.io"))], sentCustomerId: "C2"),
            SyncChange(op: .remove, audience: "vip", customerId: "C3", contentHash: "h", fields: []),
        ])
        let reference = try JSONSerialization.data(withJSONObject: plain.jsonObject, options: [.sortedKeys, .withoutEscapingSlashes])
        #expect(plain.body == reference, "\(String(decoding: plain.body, as: UTF8.self))")
        let awkward = SyncBatchPayload(destination: "d\"q", batchId: 1, changes: [
            SyncChange(op: .add, audience: "a", customerId: "C\u{1}", contentHash: "h",
                       fields: [("note", .text("line\nbreak \"quoted\" \\ tab\t é 中")), ("spend", .number(2.5)), ("big", .number(1e20)),
                                ("tiny", .number(1e-7)), ("bad", .number(.nan)), ("b", .text("first")), ("b", .text("last"))]),
        ])
        let parsed = try #require(try JSONSerialization.jsonObject(with: awkward.body) as? [String: Any])
        let change = try #require((parsed["changes"] as? [[String: Any]])?.first)
        let fields = try #require(change["fields"] as? [String: Any])
        #expect(parsed["destination"] as? String == "d\"q" && change["customer_id"] as? String == "C\u{1}")
        #expect(fields["note"] as? String == "line\nbreak \"quoted\" \\ tab\t é 中")
        #expect((fields["spend"] as? NSNumber)?.doubleValue == 2.5 && (fields["big"] as? NSNumber)?.doubleValue == 1e20)
        #expect((fields["tiny"] as? NSNumber)?.doubleValue == 1e-7 && fields["bad"] is NSNull && fields["b"] as? String == "last")
    }

    @Test func fileDropsArePrivateCSVAndNDJSONPerBatch() async throws {
        try await offPool {
            let (p, catalog) = try Self.freshCatalog()
            defer { _ = p }
            for format in [DestinationConfig.FileFormat.csv, .ndjson] {
                let path = p.dir.appendingPathComponent("out/drops/vip.\(format.rawValue)")
                let destination = DestinationConfig(name: "drop_\(format.rawValue)", kind: .file, audiences: ["vip"], mode: .mirror,
                                                    fields: ["customer_id", "city"], path: path, format: format)
                let syncer = DestinationSyncer(catalog: catalog, destination: destination,
                                               delivery: DestinationSyncer.delivery(for: destination, catalog: catalog))
                try syncer.sync(desired: [Self.member("vip", "C1", [("city", .text("Leeds, West Yorkshire"))])])
                let record = try syncer.sync(desired: [])
                #expect(record.removes == 1)
                let files = try FileManager.default.contentsOfDirectory(atPath: path.deletingLastPathComponent().path)
                    .filter { $0.hasSuffix(format.rawValue) }.sorted()
                #expect(files.count == 2, "one drop per batch: \(files)")
                let first = try String(contentsOf: path.deletingLastPathComponent().appendingPathComponent(files[0]), encoding: .utf8)
                let attributes = try FileManager.default.attributesOfItem(atPath: path.deletingLastPathComponent().appendingPathComponent(files[0]).path)
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
                if format == .csv {
                    let lines = first.split(separator: "\n")
                    #expect(lines[0] == "batch_id,op,audience,customer_id,city")
                    #expect(lines[1].hasSuffix(",add,vip,C1,\"Leeds, West Yorkshire\""))
                } else {
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
                    #expect(object["op"] as? String == "add" && object["city"] as? String == "Leeds, West Yorkshire")
                }
            }
        }
    }

    @Test func destinationsConfigErrorsNameFileLineAndKey() throws {
        let base = Self.crmProject + """
        audiences:
          - name: vip
            where: "orders >= 2"

        """
        let cases: [(String, String, Int)] = [
            ("destinations:\n  - name: d\n    type: ftp\n    audiences: [vip]\n", "destinations.d.type", 15),
            ("destinations:\n  - name: d\n    type: webhook\n    audiences: [nobody]\n    url: http://127.0.0.1:1/x\n", "destinations.d.audiences", 16),
            ("destinations:\n  - name: d\n    type: webhook\n    audiences: [vip]\n    url: http://127.0.0.1:1/x\n    fields: [customer_id, shoe_size]\n",
             "destinations.d.fields", 18),
            ("destinations:\n  - name: d\n    type: file\n    audiences: [vip]\n", "destinations.d.path", 14),
            ("destinations:\n  - name: d\n    type: webhook\n    audiences: [vip]\n    url: ftp://x\n", "destinations.d.url", 17),
            ("destinations:\n  - name: d\n    type: webhook\n    audiences: [vip]\n    url: http://127.0.0.1:1/x\n    error_after: soon\n",
             "destinations.d.error_after", 18),
            ("destinations:\n  - name: d\n    type: crm\n    source: crm\n    path: out/crm.csv\n", "destinations.d.pii", 14),
            ("destinations:\n  - name: d\n    type: file\n    audiences: [vip]\n    path: out/x.csv\n    colour: red\n", "destinations.d.colour", 18),
        ]
        for (yaml, key, line) in cases {
            let p = TempProject("destcfg")
            p.write("steward.yml", base + yaml)
            do {
                _ = try p.config()
                Issue.record("accepted: \(yaml)")
            } catch let error as ConfigError {
                #expect(error.key == key, "\(error)")
                #expect(error.line == line, "\(error)")
                #expect(error.file.hasSuffix("steward.yml"))
            }
        }
        let p = TempProject("destok")
        p.write("steward.yml", base + """
        destinations:
          - name: out
            type: file
            audiences: [vip]
            path: out/vip.ndjson
            fields: [email, orders]
            error_after: 2h
          - name: crm_back
            type: crm
            source: crm
            url: http://127.0.0.1:9/crm
            pii: true
            conflict: steward_wins
        """)
        let config = try p.config()
        #expect(config.destinations[0].fields == ["customer_id", "email", "orders"] && config.destinations[0].format == .ndjson)
        #expect(config.destinations[0].errorAfter == 7200 && config.destinations[0].mode == .mirror)
        #expect(config.destinations[1].mode == .upsert && config.destinations[1].conflictRule == .stewardWins)
        #expect(config.destinations[1].fields == DestinationConfig.crmDefaultFields)
    }

    @Test func personalFieldsAreMaskedUnlessTheDestinationIsDeclaredPII() throws {
        let p = TempProject("mask")
        p.write("steward.yml", Self.crmProject)
        let config = try p.config()
        let values: [String: TraitValue] = ["email": .text("jane@example.com"), "phone": .text("+15551234567"), "city": .text("Leeds"),
                                            "orders": .number(3)]
        var destination = DestinationConfig(name: "d", kind: .webhook, fields: ["customer_id", "email", "phone", "city", "orders"])
        let masked = AudienceFeed.fields(values, customerId: "C1", destination: destination, config: config)
        #expect(masked.map(\.value) == [.text("C1"), .text("j***@example.com"), .text("***-***-4567"), .text("Leeds"), .number(3)])
        destination.pii = true
        let open = AudienceFeed.fields(values, customerId: "C1", destination: destination, config: config)
        #expect(open[1].value == .text("jane@example.com") && open[2].value == .text("+15551234567"))
    }
}
