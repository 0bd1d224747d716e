import Foundation

/// `steward init DIR` without `--demo`: a small project that runs as is and shows each part of steward.yml.
public enum Scaffold {
    public static func write(to dir: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("sources"), withIntermediateDirectories: true)
        try config.write(to: dir.appendingPathComponent("steward.yml"), atomically: true, encoding: .utf8)
        let contacts = dir.appendingPathComponent("sources/contacts.csv")
        if !fm.fileExists(atPath: contacts.path) {
            try sample.write(to: contacts, atomically: true, encoding: .utf8)
        }
    }

    static let config = """
    # Steward project. Reference: README.md, "Config reference".
    name: my-cdp
    catalog: .steward/catalog.sqlite
    default_region: US
    # PII is stored encrypted; the key lives outside the catalog (README, "Privacy vault").
    privacy: {vault: true}
    sources:
      - name: contacts
        system: crm
        entity: person
        format: csv
        path: sources/*.csv
        key: id
        freshness: {warn_after: 24h, error_after: 72h}
        date_formats: ["%m/%d/%Y"]
        mapping:
          first_name: first_name
          last_name: last_name
          email: email
          phone: phone
          dob: birth_date
          postcode: zip
          country: country
        checks:
          - not_null: [id]
          - unique: id
          - pattern: {column: email, format: email, severity: warn}
          - row_count: {min: 1}

    """

    static let sample = """
    id,first_name,last_name,email,phone,birth_date,zip,country
    1,Ada,Lovelace,ada@example.com,(415) 555-0100,12/10/1985,94103,US
    2,Alan,Turing,alan@example,415.555.0101,06/23/1982,02139,US
    3,Grace,Hopper,grace@example.com,+1 415 555 0102,12/09/1976,10001,US

    """
}
