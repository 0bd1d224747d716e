import Foundation
import GRDB
import Testing
@testable import StewardCatalog

/// Issue 16, items 1 and 3, end to end through the binary: errors, run and step messages, audit
/// details, alert payloads, check samples and quarantine reasons name files, lines, columns and
/// counts, never a cell's content; `steward quarantine` masks by the mapping and `--reveal` is audited.
@Suite(.serialized) struct NoValuesInMessagesTests {
    /// Values of quarantined rows: stored only as those rows' raw text (which the vault seals).
    static let quarantinedValues = ["john.secret@@example.com", "245-54-9872", "12 Hidden Lane", "1961-07-04",
                                    "1970-13-45", "111-22-3333", "555 0199"]
    /// A quarantined value of a column that is not personal: `steward quarantine` shows it, no message quotes it.
    static let plainValue = "platinum-vip"
    /// Values of files that are refused whole: stored nowhere at all.
    static let refusedValues = ["Johnny Secret", "johnny.secret@mail.com", "555-12-3456", "jane.other@mail.com",
                                "rootsecret-account"]

    /// `people` quarantines two rows for invalid values; `partners` is a CSV without its header row;
    /// `imports` matches a symbolic link to a file outside the project (a system file, say).
    static func project(webhook: String? = nil) throws -> TempProject {
        let p = TempProject("novalues")
        p.write("steward.yml", """
        name: leaks
        sources:
          - name: people
            system: crm
            entity: person
            format: csv
            path: people.csv
            key: contact_id
            mapping: {first_name: First, email: Email, phone: Phone, dob: BirthDate, street: Street, postcode: Zip, national_id: SSN}
            checks:
              - pattern: {column: Email, format: email}
              - pattern: {column: BirthDate, format: date}
              - unique: SSN
              - accepted_values: {column: Tier, values: [gold, silver]}
          - name: partners
            system: partner
            entity: person
            format: csv
            path: partners.csv
            key: contact_id
            mapping: {first_name: Name, email: Email, phone: Phone}
          - name: imports
            system: imp
            entity: person
            format: csv
            path: imports/*.csv
            key: contact_id
            mapping: {email: Email}
        \(webhook.map { "alerts:\n  - webhook: \($0)\n" } ?? "")
        """)
        p.write("people.csv", """
        contact_id,First,Email,Phone,BirthDate,Street,Zip,SSN,Tier
        C-1,Ann,ann@example.com,+1 415 555 0101,1980-01-02,1 Main St,94105,111-22-3333,gold
        C-2,John,john.secret@@example.com,+1 415 555 0199,1961-07-04,12 Hidden Lane,94107,245-54-9872,platinum-vip
        C-3,Bob,bob@example.com,+1 415 555 0102,1970-13-45,3 Oak St,94108,111-22-3333,silver

        """)
        p.write("partners.csv", "7,Johnny Secret,johnny.secret@mail.com,555-12-3456\n8,Jane Other,jane.other@mail.com,555-98-7654\n")
        let system = p.dir.deletingLastPathComponent().appendingPathComponent("steward-system-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: system, withIntermediateDirectories: true)
        try "root:x:0:0:rootsecret-account:/root:/bin/bash\n".write(to: system.appendingPathComponent("passwd"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: p.dir.appendingPathComponent("imports"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: p.dir.appendingPathComponent("imports/passwd.csv").path,
                                                   withDestinationPath: system.appendingPathComponent("passwd").path)
        return p
    }

    /// Every message-like text the catalog keeps, one string per row.
    static func messageTexts(_ catalog: URL) throws -> [String] {
        let queue = try DatabaseQueue(path: catalog.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        return try queue.read { db in
            var texts: [String] = []
            for sql in ["SELECT COALESCE(message, '') FROM run", "SELECT COALESCE(message, '') FROM run_step",
                        "SELECT action || ' ' || subject || ' ' || detail FROM audit_event",
                        "SELECT problems_json || ' ' || COALESCE(last_error, '') FROM alert_state",
                        "SELECT reasons_json FROM quarantine", "SELECT samples_json FROM check_result",
                        "SELECT COALESCE(flags, '') FROM staged_person"] {
                texts += try String.fetchAll(db, sql: sql)
            }
            return texts
        }
    }

    @Test func aHeaderlessFileASymlinkAndInvalidValuesLeaveNoValueInMessages() async throws {
        let hook = try WebhookListener()
        defer { hook.stop() }
        let p = try Self.project(webhook: hook.url)
        let dir = p.dir.path
        let env = ["XDG_STATE_HOME": p.dir.appendingPathComponent("state").path]
        let run = try await offPool { try StewardBinary.run(["run", "--project", dir], env: env) }
        var terminal = run.stdout + run.stderr
        for args in [["status"], ["runs", "--json"], ["quarantine"], ["quarantine", "--json"], ["check"], ["check", "--json"]] {
            let r = try await offPool { try StewardBinary.run(args + ["--project", dir], env: env) }
            terminal += r.stdout + r.stderr
        }

        // The step messages say what is wrong without quoting the files.
        let catalogURL = p.dir.appendingPathComponent(".steward/catalog.sqlite")
        let texts = try Self.messageTexts(catalogURL)
        let all = texts.joined(separator: "\n")
        #expect(all.contains("partners.csv:1: schema: the first row does not name the mapped columns contact_id, Name, Email, Phone; it has 4 fields"), "\(all)")
        #expect(all.contains("passwd.csv:1: schema: the first row does not name the mapped columns contact_id, Email; it has 1 field"), "\(all)")
        #expect(all.contains("Email: invalid email: expected local@domain.tld"), "\(all)")
        #expect(all.contains("SSN repeats the value of line 2"), "\(all)")
        #expect(all.contains("Tier is not one of gold, silver"), "\(all)")
        #expect(terminal.contains("the first row does not name the mapped columns"), "\(terminal)")
        #expect(try Self.quarantineCount(catalogURL) == 2)
        #expect(!hook.received.isEmpty, "the webhook got no alert")

        #expect(!all.contains(Self.plainValue) && !hook.received.joined().contains(Self.plainValue))
        for value in Self.quarantinedValues + Self.refusedValues {
            #expect(!all.contains(value), "'\(value)' in a catalog message")
            #expect(!terminal.contains(value), "'\(value)' on the terminal")
            #expect(!hook.received.joined().contains(value), "'\(value)' in a webhook payload")
        }
        // A refused file's content is stored nowhere: not in the catalog file nor its WAL.
        var bytes = try Data(contentsOf: catalogURL)
        if let wal = FileManager.default.contents(atPath: catalogURL.path + "-wal") { bytes += wal }
        for value in Self.refusedValues {
            #expect(bytes.range(of: Data(value.utf8)) == nil, "'\(value)' in the catalog's bytes")
        }
        // The quarantined rows' values are kept, as raw storage only (the raw layer and quarantine), in no other column.
        #expect(bytes.range(of: Data("john.secret@@example.com".utf8)) != nil)
        let onlyQuarantined = Self.quarantinedValues.filter { $0 != "111-22-3333" }  // C-1, staged, has that SSN too
        let holding = try Self.columnsHolding(onlyQuarantined + [Self.plainValue], in: catalogURL)
        #expect(holding == ["raw_record.data", "quarantine.raw"], "\(holding)")
    }

    /// Every `table.column` of the catalog whose text holds one of `values`.
    static func columnsHolding(_ values: [String], in catalog: URL) throws -> Set<String> {
        let queue = try DatabaseQueue(path: catalog.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        return try queue.read { db in
            var found = Set<String>()
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
                for column in try Row.fetchAll(db, sql: "PRAGMA table_info(\(table.quotedDatabaseIdentifier))").map({ $0["name"] as String }) {
                    for value in values where try Bool.fetchOne(db, sql: """
                        SELECT EXISTS (SELECT 1 FROM \(table.quotedDatabaseIdentifier) WHERE instr(CAST(\(column.quotedDatabaseIdentifier) AS TEXT), ?) > 0)
                        """, arguments: [value]) == true {
                        found.insert("\(table).\(column)")
                    }
                }
            }
            return found
        }
    }

    static func quarantineCount(_ catalog: URL) throws -> Int {
        let queue = try DatabaseQueue(path: catalog.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        return try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM quarantine WHERE released_run IS NULL") ?? 0 }
    }

    @Test func quarantineMasksByTheMappingAndRevealIsAudited() async throws {
        let p = try Self.project()
        let dir = p.dir.path
        _ = try await offPool { try StewardBinary.run(["run", "--project", dir]) }

        let text = try await offPool { try StewardBinary.run(["quarantine", "--project", dir]) }
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("people  people.csv:3  key C-2"), "\(text.stdout)")
        #expect(text.stdout.contains("raw: contact_id=C-2, First=John, Email=j***@@example.com, Phone=***-***-0199, BirthDate=***, Street=***, Zip=94107, SSN=***, Tier=platinum-vip"),
                "\(text.stdout)")
        #expect(text.stdout.contains("✗ email_format (error): Email: invalid email: expected local@domain.tld")
                || text.stdout.contains("Email: invalid email: expected local@domain.tld"), "\(text.stdout)")
        for value in ["john.secret", "245-54-9872", "12 Hidden Lane", "1961-07-04", "1970-13-45"] {
            #expect(!text.stdout.contains(value), "'\(value)' shown masked")
        }

        let json = try await offPool { try StewardBinary.run(["quarantine", "--json", "--project", dir]) }
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let c2 = try #require(rows.first { $0["record_key"] as? String == "C-2" })
        let raw = try #require(c2["fields"] as? [String: Any])
        #expect((c2["raw"] as? String)?.contains("\"SSN\":\"***\"") == true, "raw stays the contract's string")
        #expect(raw["contact_id"] as? String == "C-2")
        #expect(raw["Zip"] as? String == "94107")
        #expect(raw["Email"] as? String == "j***@@example.com")
        #expect(raw["SSN"] as? String == "***")
        #expect(raw["BirthDate"] as? String == "***")
        #expect(c2["masked"] as? Bool == true)
        #expect(!json.stdout.contains("245-54-9872") && !json.stdout.contains("john.secret"))
        #expect(try Self.reveals(p) == 0, "a masked listing is not a reveal")

        let revealed = try await offPool { try StewardBinary.run(["quarantine", "--json", "--reveal", "--project", dir]) }
        #expect(revealed.status == 0, "\(revealed.stderr)")
        #expect(revealed.stdout.contains("245-54-9872") && revealed.stdout.contains("john.secret@@example.com"))
        #expect(try Self.reveals(p) == 1)
        let event = try #require(try Self.lastReveal(p))
        #expect(event.subject == "quarantine:all" && event.detail == "quarantine --reveal: 2 rows", "\(event)")
        #expect(!event.actor.isEmpty)

        let one = try await offPool { try StewardBinary.run(["quarantine", "--reveal", "--source", "people", "--project", dir]) }
        #expect(one.stdout.contains("SSN=245-54-9872"), "\(one.stdout)")
        #expect(try Self.lastReveal(p)?.subject == "quarantine:people")
    }

    /// A revealed search is audited by the customers it showed, not by the query: a search by email or
    /// phone would copy it into the audit trail.
    @Test func aRevealedSearchIsAuditedWithoutItsQuery() async throws {
        let p = try Self.project()
        let dir = p.dir.path
        _ = try await offPool { try StewardBinary.run(["run", "--project", dir]) }
        let search = try await offPool { try StewardBinary.run(["customer", "search", "ann@example.com", "--reveal", "--project", dir]) }
        #expect(search.status == 0, "\(search.stderr)")
        #expect(search.stdout.contains("ann@example.com"), "\(search.stdout)")
        let event = try #require(try Self.lastReveal(p))
        #expect(event.subject == "search" && event.detail.hasPrefix("customer search --reveal: 1 customers: "), "\(event)")
        #expect(!(try Self.messageTexts(p.dir.appendingPathComponent(".steward/catalog.sqlite")).joined().contains("ann@example.com")))
    }

    static func reveals(_ p: TempProject) throws -> Int {
        try p.catalog().pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'reveal'") ?? 0 }
    }

    static func lastReveal(_ p: TempProject) throws -> (actor: String, subject: String, detail: String)? {
        try p.catalog().pool.read { db in
            try Row.fetchOne(db, sql: "SELECT actor, subject, detail FROM audit_event WHERE action = 'reveal' ORDER BY id DESC LIMIT 1")
                .map { (actor: $0["actor"], subject: $0["subject"], detail: $0["detail"]) }
        }
    }
}
