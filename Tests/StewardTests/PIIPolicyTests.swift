import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardConsole
@testable import StewardPipeline

/// One PII policy, from steward.yml's mappings and `pii:` lists: which columns are personal, how each
/// is masked, and how a quarantined row is shown in the console (issue 16, items 1–2).
@Suite struct PIIPolicyTests {
    /// A one-source project (`crm_contacts`, key `contact_id`) with `mapping` and optional `pii:` lines.
    static func project(mapping: String, extra: String = "") -> TempProject {
        let p = TempProject("pii")
        p.write("steward.yml", """
        name: pii
        sources:
          - name: crm_contacts
            system: crm
            entity: person
            format: csv
            path: crm.csv
            key: contact_id
            mapping: \(mapping)
        \(extra)
        """)
        return p
    }

    static func policy(mapping: String, extra: String = "") throws -> PIIPolicy {
        try PIIPolicy(config: project(mapping: mapping, extra: extra).config())
    }

    static let fullMapping = "{first_name: First, email: Email, phone: Phone, dob: BirthDate, street: \"{No} {Street}\", postcode: Zip, national_id: SSN}"

    // MARK: which columns

    @Test func mappedPersonalFieldsArePIIAndTheRestIsNot() throws {
        let policy = try Self.policy(mapping: Self.fullMapping, extra: "    pii: [Notes]")
        for column in ["Email", "Phone", "BirthDate", "No", "Street", "SSN", "Notes"] {
            #expect(policy.isPII(source: "crm_contacts", column: column), "\(column)")
        }
        for column in ["contact_id", "First", "Zip", "UpdatedAt", "Tier"] {
            #expect(!policy.isPII(source: "crm_contacts", column: column), "\(column)")
        }
        #expect(policy.kind(source: "crm_contacts", column: "Email") == .email)
        #expect(policy.kind(source: "crm_contacts", column: "Phone") == .phone)
        #expect(policy.kind(source: "crm_contacts", column: "SSN") == .other)
        // A source steward.yml no longer declares: nothing is known about its columns, all are masked.
        #expect(policy.isPII(source: "gone", column: "contact_id"))
    }

    @Test func displayMasksByColumnAndRevealShows() throws {
        let policy = try Self.policy(mapping: Self.fullMapping)
        func show(_ v: String, _ c: String, reveal: Bool = false) -> String? { policy.display(v, column: c, source: "crm_contacts", reveal: reveal) }
        #expect(show("jane.doe@example.com", "Email") == "j***@example.com")
        #expect(show("+44 20 7946 0958", "Phone") == "***-***-0958")
        #expect(show("1961-07-04", "BirthDate") == "***")
        #expect(show("245-54-9872", "SSN") == "***")
        #expect(show("SW1A 1AA", "Zip") == "SW1A 1AA")
        #expect(show("C-1017", "contact_id") == "C-1017")
        #expect(show("245-54-9872", "SSN", reveal: true) == "245-54-9872")
        #expect(show("", "SSN") == "")
        #expect(policy.display(nil, column: "SSN", source: "crm_contacts", reveal: false) == nil)
    }

    @Test func rawRowsAreShownInColumnOrderMaskedPerColumn() throws {
        let policy = try Self.policy(mapping: Self.fullMapping)
        let raw = #"{"contact_id":"C-7","BirthDate":"1961-07-04","No":"12","Street":"Hidden \"Lane\"","Zip":"94105","SSN":"245-54-9872","UpdatedAt":"2024-05-01T10:00:00Z","Note":null}"#
        #expect(policy.displayRawLine(raw, source: "crm_contacts", reveal: false)
                == "contact_id=C-7, BirthDate=***, No=***, Street=***, Zip=94105, SSN=***, UpdatedAt=2024-05-01T10:00:00Z, Note=null")
        #expect(policy.displayRaw(raw, source: "crm_contacts", reveal: true)?.map(\.value)
                == ["C-7", "1961-07-04", "12", "Hidden \"Lane\"", "94105", "245-54-9872", "2024-05-01T10:00:00Z", nil])
        // A row the reader could not read as written: its values may sit under the wrong columns.
        #expect(policy.displayRawLine(raw, source: "crm_contacts", readable: false, reveal: false)
                .components(separatedBy: ", ").allSatisfy { $0.hasSuffix("=***") || $0.hasSuffix("=null") })
        // Text that is not a row of columns is not guessed at.
        #expect(policy.displayRawLine("7,Johnny Secret,johnny.secret@mail.com", source: "crm_contacts", reveal: false)
                == "*** (38 characters, not shown)")
    }

    @Test func nestedNDJSONPathsAreColumns() throws {
        let p = TempProject("pii-nd")
        p.write("steward.yml", """
        name: nd
        sources:
          - name: app
            system: app
            entity: person
            format: ndjson
            path: app.ndjson
            key: id
            mapping: {email: contact.email, phone: contact.phone, city: address.city}
        """)
        let policy = PIIPolicy(config: try p.config())
        let line = #"{"id": 5, "contact": {"email": "ann@example.com", "phone": "+1 415 555 0199"}, "address": {"city": "Oslo"}, "tags": ["a", "b"], "vip": true}"#
        #expect(policy.displayRawLine(line, source: "app", reveal: false)
                == #"id=5, contact.email=a***@example.com, contact.phone=***-***-0199, address.city=Oslo, tags=["a", "b"], vip=true"#)
    }

    @Test func reasonsAnOlderVersionWroteWithValuesAreMasked() {
        let columns: Set<String> = ["contact_id", "Email", "SSN"]
        func shown(_ r: String, reveal: Bool = false) -> String { PIIPolicy.displayReason(r, columns: columns, reveal: reveal) }
        #expect(shown("email_format (error): Email: invalid email 'john.secret@@example.com': expected local@domain.tld")
                == "email_format (error): Email: invalid email '***': expected local@domain.tld")
        #expect(shown("unique_SSN (error): SSN '245-54-9872' repeats line 2") == "unique_SSN (error): SSN '***' repeats line 2")
        // Quoted column names stay; so does everything with --reveal, and reasons without quotes.
        #expect(shown("readable (error): line 3: the record key 'contact_id' holds a NUL byte")
                == "readable (error): line 3: the record key 'contact_id' holds a NUL byte")
        #expect(shown("x 'O'Brien' y", reveal: true) == "x 'O'Brien' y")
        #expect(shown("last 'O'Brien' is not one of A, B") == "last '***' is not one of A, B")
        #expect(shown("Email: invalid email: expected local@domain.tld") == "Email: invalid email: expected local@domain.tld")
        #expect(PIIPolicy.displayReasons(["SSN '245-54-9872' repeats line 2"], raw: #"{"contact_id":"C-1","SSN":"245-54-9872"}"#, reveal: false)
                == ["SSN '***' repeats line 2"])
    }

    // MARK: the `pii:` key

    @Test func piiListIsValidatedWithFileLineAndKey() throws {
        let ok = try Self.project(mapping: "{email: Email}", extra: "    pii: [Notes, Card]").config()
        #expect(ok.sources[0].piiColumns == ["Notes", "Card"])
        for (extra, message) in [("    pii: Notes", "expected a list"), ("    pii: []", "expected a list"),
                                 ("    pii: [Notes, Notes]", "'Notes' is listed twice"), ("    pii: [\"\"]", "cannot be empty"),
                                 ("    pii: [{a: b}]", "expected a single value")] {
            do {
                _ = try Self.project(mapping: "{email: Email}", extra: extra).config()
                Issue.record("accepted: \(extra)")
            } catch let e as ConfigError {
                #expect(e.file.hasSuffix("steward.yml"))
                #expect(e.line == 10, "\(e)")
                #expect(e.key == "sources.crm_contacts.pii", "\(e)")
                #expect(e.message.contains(message), "\(e)")
            }
        }
    }

    // MARK: the console

    /// Item 2: the quarantine detail masks by the mapping — the birth date, street and national id are
    /// masked, the record key, postcode and timestamp readable — and so do a check's failing records.
    @MainActor @Test func consoleQuarantineAndFailingRecordsMaskByTheMapping() throws {
        typealias F = ConsoleFixtures
        let raw = #"{"contact_id":"C-4242","First":"Ann","BirthDate":"1961-07-04","No":"12","Street":"Hidden Lane","Zip":"94105","SSN":"245-54-9872","UpdatedAt":"2024-05-01T10:00:00Z"}"#
        let row = QuarantinedRow(id: 7, runId: 3, source: "crm_contacts", file: "crm.csv", line: 9, recordKey: "C-4242",
                                 checks: ["dob_format"],
                                 // As an older version wrote it, quoting the value: shown masked.
                                 reasons: ["dob_format (error): BirthDate: invalid date '1961-07-04': not a recognised calendar date"],
                                 raw: raw, quarantinedAt: F.now)
        var detail = F.sourceDetail
        detail.quarantine = [row]
        var state = F.state(width: 160, height: 30)
        state.snapshot?.pii = try Self.policy(mapping: Self.fullMapping)
        state.sources.open("crm_contacts")
        state.sources.section = .quarantine
        state.snapshot?.sourceDetail = detail
        var text = F.screen(state).text
        #expect(text.contains("raw (masked): contact_id=C-4242, First=Ann, BirthDate=***, No=***, Street=***, Zip=94105, SSN=***, UpdatedAt=2024-05-01T10:00:00Z"),
                "\(text)")
        for secret in ["1961-07-04", "Hidden Lane", "245-54-9872"] { #expect(!text.contains(secret), "\(secret)") }

        state.pane = .quality
        state.quality.openCheck = CheckRef(source: "crm_contacts", name: "email_format")
        state.snapshot?.checkDetail = CheckDetail(check: F.snapshot.quality!.sources[0].checks[0], history: [], failing: [row])
        text = F.screen(state).text
        #expect(text.contains("crm.csv:9 key C-4242"), "\(text)")
        // Its values are in the row's detail (Enter), masked by the mapping.
        text = F.screen(F.send(state, [.key(.enter)])).text
        func field(_ name: String, _ value: String) -> Bool {
            text.split(separator: "\n").contains { line in
                guard let r = line.range(of: " \(name) ") else { return false }
                return line[r.upperBound...].trimmingCharacters(in: .whitespaces).hasPrefix(value)
            }
        }
        #expect(field("BirthDate", "***") && field("First", "Ann") && field("Zip", "94105"), "\(text)")
        for secret in ["1961-07-04", "Hidden Lane", "245-54-9872"] { #expect(!text.contains(secret), "\(secret)") }

        // Without the project's policy nothing is known, so nothing is shown.
        state.snapshot?.pii = PIIPolicy()
        text = F.screen(F.send(state, [.key(.enter)])).text
        #expect(field("contact_id", "***") && field("First", "***"), "\(text)")
    }

    /// The same through the built binary in a real terminal: `steward tui` hands steward.yml's policy to
    /// the console, whose quarantine detail masks the birth date, street and national id.
    @Test func theConsoleMasksQuarantineByTheProjectsMapping() async throws {
        let p = Self.project(mapping: Self.fullMapping)
        p.write("steward.yml", try String(contentsOf: p.ymlURL, encoding: .utf8) + "    checks:\n      - pattern: {column: Email, format: email}\n")
        p.write("crm.csv", """
        contact_id,First,Email,Phone,BirthDate,No,Street,Zip,SSN
        C-1,Ann,ann@example.com,+1 415 555 0101,1980-01-02,1,Main St,94105,111-22-3333
        C-2,John,john.secret@@example.com,+1 415 555 0199,1961-07-04,12,Hidden Lane,94107,245-54-9872

        """)
        let dir = p.dir.path
        try await offPool {
            _ = try StewardBinary.run(["run", "--project", dir])
            let tmux = try Tmux(width: 160, height: 30, command: "\(ConsoleTmuxTests.steward.path) tui --project \(dir)")
            defer { tmux.kill() }
            _ = try tmux.waitFor("Sources (", timeout: 10)
            tmux.send("Enter"); _ = try tmux.waitFor("Source crm_contacts")
            tmux.send("Right", "Right")
            let screen = try tmux.waitFor("raw (masked): contact_id=C-2, First=John, Email=j***@@example.com, Phone=***-***-0199, BirthDate=***, No=***, Street=***, Zip=94107, SSN=***")
            for secret in ["1961-07-04", "Hidden Lane", "245-54-9872", "john.secret"] { #expect(!screen.contains(secret), "\(secret)") }
            tmux.send("q")
            #expect(try tmux.waitFor("TTY sane: icanon echo").contains("EXIT=0"))
        }
    }
}
