import Foundation
import Testing
@testable import StewardCatalog

/// CRM write-back (issue 20), end to end through the binary: the golden id and the cleaned values go
/// back only where the CRM holds something else; a field the CRM edited after the last sync keeps the
/// CRM's value under `conflict: crm_wins` and is listed by `steward sync conflicts` (masked).
@Suite struct SyncCRMTests {
    static func project(rule: String) -> TempProject {
        let p = TempProject("crm")
        p.write("crm.csv", """
        id,First,Last,Email,Phone,DOB,SSN,City
        1,Jane,Doe,JANE.DOE@EXAMPLE.COM,(415) 867-2309,1980-02-03,524-71-3398,leeds
        2,John,Smith,john.smith@example.com,+12125550187,1975-06-07,618-22-4075,York

        """)
        p.write("shop.csv", """
        id,First,Last,Email,Phone,DOB,SSN,City
        7,Jane,Doe,jane.doe@example.com,+1 415 867 2309,1980-02-03,524-71-3398,Leeds

        """)
        p.write("steward.yml", """
        name: crmsync
        sources:
          - {name: crm, system: crm, entity: person, format: csv, path: crm.csv, key: id,
             mapping: {first_name: First, last_name: Last, email: Email, phone: Phone, dob: DOB, national_id: SSN, city: City}}
          - {name: shop, system: ecommerce, entity: person, format: csv, path: shop.csv, key: id,
             mapping: {first_name: First, last_name: Last, email: Email, phone: Phone, dob: DOB, national_id: SSN, city: City}}
        survivorship: {default: source_priority, source_priority: [shop, crm]}
        destinations:
          - name: crm_back
            type: crm
            source: crm
            path: out/crm_updates.csv
            fields: [email, phone, city]
            pii: true
            conflict: \(rule)
        """)
        return p
    }

    /// The rows of every update file, oldest batch first, as column → value.
    static func drops(_ p: TempProject) throws -> [[String: String]] {
        let dir = p.dir.appendingPathComponent("out")
        var rows: [[String: String]] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).filter({ $0.hasPrefix("crm_updates.") }).sorted() {
            let lines = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map(String.init)
            let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            for line in lines.dropFirst() {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                rows.append(Dictionary(uniqueKeysWithValues: zip(header, cells)))
            }
        }
        return rows
    }

    @Test func writeBackOnlyWhatDiffersAndTheCRMsEditWins() async throws {
        try await offPool {
            let p = Self.project(rule: "crm_wins")
            let dir = p.dir.path
            let first = try StewardBinary.run(["run", "--project", dir])
            #expect(first.status == 0, "\(first.stderr)")
            var rows = try Self.drops(p)
            let jane = try #require(rows.first { $0["record_id"] == "1" })
            #expect(jane["email"] == "jane.doe@example.com" && jane["phone"] == "+14158672309" && jane["city"] == "Leeds",
                    "the cleaned, surviving values: \(jane)")
            #expect(jane["customer_id"]?.hasPrefix("C") == true && jane["op"] == "add")
            let john = try #require(rows.first { $0["record_id"] == "2" })
            #expect(john["email"] == "" && john["phone"] == "" && john["city"] == "", "John's CRM values are already Steward's: only his id goes back")

            // Nothing changed: nothing is written again.
            #expect(try StewardBinary.run(["sync", "--project", dir]).status == 0)
            #expect(try Self.drops(p).count == rows.count)
            let none = try StewardBinary.run(["sync", "conflicts", "--json", "--project", dir])
            #expect((try JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [Any])?.isEmpty == true, "\(none.stdout)")

            // Someone edits Jane's city in the CRM (and the CRM never applied Steward's email and phone). Two
            // records cannot teach the model that a city may differ: the steward has confirmed the pair.
            #expect(try StewardBinary.run(["match", "accept", "crm:1", "shop:7", "--project", dir]).status == 0)
            try p.edit("crm.csv", replacing: ",leeds", with: ",Wakefield")
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            rows = try Self.drops(p)
            let update = try #require(rows.last { $0["record_id"] == "1" })
            #expect(update["op"] == "update" && update["city"] == "" && update["email"] == "jane.doe@example.com"
                        && update["phone"] == "+14158672309", "the CRM's edit wins for city; email and phone still go back: \(update)")

            let conflicts = try StewardBinary.run(["sync", "conflicts", "--json", "--project", dir])
            #expect(conflicts.status == 0, "\(conflicts.stderr)")
            let list = try #require(try JSONSerialization.jsonObject(with: Data(conflicts.stdout.utf8)) as? [[String: Any]])
            #expect(list.count == 1)
            #expect(list.first?["field"] as? String == "city" && list.first?["record_id"] as? String == "1")
            #expect(list.first?["crm_value"] as? String == "Wakefield" && list.first?["steward_value"] as? String == "Leeds")
            #expect(list.first?["winner"] as? String == "crm")
            let text = try StewardBinary.run(["sync", "conflicts", "--project", dir]).stdout
            #expect(text.contains("Wakefield") && text.contains("crm_back"), "\(text)")

            let status = try StewardBinary.run(["sync", "status", "--json", "--project", dir])
            let s = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
            #expect(s.first?["destination"] as? String == "crm_back" && s.first?["status"] as? String == "ok" && s.first?["type"] as? String == "crm")
            #expect((s.first?["sent"] as? [String: Any])?["update"] as? Int == 1)
        }
    }

    @Test func underStewardWinsTheEditIsOverwrittenAndStillListed() async throws {
        try await offPool {
            let p = Self.project(rule: "steward_wins")
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["match", "accept", "crm:1", "shop:7", "--project", dir]).status == 0)
            try p.edit("crm.csv", replacing: ",leeds", with: ",Wakefield")
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            let update = try #require(try Self.drops(p).last { $0["record_id"] == "1" })
            #expect(update["op"] == "update" && update["city"] == "Leeds", "survivorship wins: \(update)")
            let conflicts = try StewardBinary.run(["sync", "conflicts", "--json", "--reveal", "--project", dir])
            let list = try #require(try JSONSerialization.jsonObject(with: Data(conflicts.stdout.utf8)) as? [[String: Any]])
            #expect(list.first?["winner"] as? String == "steward" && list.first?["crm_value"] as? String == "Wakefield")
            let audited = try p.scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'reveal' AND subject = 'sync conflicts'") as Int?
            #expect(audited == 1)
        }
    }
}
