import ArgumentParser
import Foundation
import GRDB
import StewardCatalog
import StewardConfig
import StewardIdentity
import StewardPipeline

/// `steward vault enable|rotate|status`: the privacy vault (README, "Privacy vault").
struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault", abstract: "Seal the catalog's PII under a key kept outside it.",
        discussion: """
            The key is $\(VaultKeys.environmentVariable) (base64, 32 bytes) or a key file under \
            ${XDG_CONFIG_HOME:-~/.config}/steward/keys/ (0600), created on first use. Without the key, read \
            commands show PII as [sealed] and commands that write PII refuse to run.
            """,
        subcommands: [VaultEnable.self, VaultRotate.self, VaultStatus.self])
}

enum VaultCLI {
    /// Seals (or re-seals) everything under `key`, in one transaction, then rewrites the file so no
    /// page of it or its WAL keeps an earlier plaintext (or earlier key's) value.
    static func reseal(_ catalog: Catalog, config: ProjectConfig, key: Vault, previous: Vault?, action: String) throws -> VaultMigration.Counts {
        catalog.vault.configure(keyId: key.keyId, keys: [key] + (previous.map { [$0] } ?? []))
        let counts: VaultMigration.Counts
        do {
            counts = try catalog.pool.write { db in
                try db.execute(sql: "PRAGMA secure_delete = ON")
                let counts = try VaultMigration.seal(db, policy: PIIPolicy(config: config))
                try CustomerSearch.rebuildIndex(db)
                try AddressDimension.rehash(db)
                try Catalog.recordVaultKey(db, keyId: key.keyId)
                try Catalog.audit(db, action: action, subject: "catalog",
                                  detail: "key \(key.keyId); \(counts.columnValues) values, \(counts.rawRows) raw rows, \(counts.quarantineRows) quarantined rows")
                return counts
            }
        } catch {
            // Not committed: the catalog is as it was, and so is this process's view of it.
            try? catalog.pool.read { try catalog.vault.reload($0) }
            throw error
        }
        try catalog.pool.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return counts
    }

    static func summary(_ counts: VaultMigration.Counts) -> String {
        "\(CLI.count(counts.columnValues)) values, \(CLI.count(counts.rawRows)) raw rows and \(CLI.count(counts.quarantineRows)) quarantined rows"
    }
}

struct VaultEnable: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable", abstract: "Seal an existing catalog's PII (one transaction; run again if interrupted).")
    @OptionGroup var projectOptions: ProjectOptions

    func run() throws {
        let config = try projectOptions.load()
        let catalog = try Catalog.open(at: config.catalogURL)
        switch catalog.vault.state {
        case .open(let id), .locked(let id): throw VaultError.alreadyEnabled(id)
        case .off: break
        }
        let key = try VaultKeys.newKey()
        let counts = try VaultCLI.reseal(catalog, config: config, key: key, previous: nil, action: "vault_enabled")
        print("vault enabled: key \(key.keyId); sealed \(VaultCLI.summary(counts))")
        if !config.privacy.vault {
            print("hint: add `privacy: {vault: true}` to steward.yml so new projects made from it start sealed")
        }
    }
}

struct VaultRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Re-seal every PII value under a new key (one transaction; run again if interrupted).")
    @OptionGroup var projectOptions: ProjectOptions

    func run() throws {
        let config = try projectOptions.load()
        let catalog = try Catalog.open(at: config.catalogURL)
        guard case .open = catalog.vault.state, let old = catalog.vault.current else {
            if case .locked(let id) = catalog.vault.state { throw VaultError.keyMissing(id) }
            throw VaultError.notEnabled
        }
        let key = try VaultKeys.newKey()
        guard key.keyId != old.keyId else {
            throw ValidationError("\(VaultKeys.environmentVariable) holds the current key; set it to the new key to rotate to, or unset it")
        }
        let counts = try VaultCLI.reseal(catalog, config: config, key: key, previous: old, action: "vault_rotated")
        print("vault rotated: key \(old.keyId) → \(key.keyId); re-sealed \(VaultCLI.summary(counts))")
        print("the old key (\(old.keyId)) is no longer needed by this catalog; keep it only for backups made before now")
    }
}

struct VaultStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Whether PII is sealed, and any plaintext left.")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        guard let catalog = try CLI.readCatalog(config) else {
            if output.json { CLI.printJSON(["state": "no catalog"] as [String: Any]); return }
            print("no catalog yet"); return
        }
        let state = catalog.vault.state
        let keyId: String? = switch state { case .off: nil; case .open(let id), .locked(let id): id }
        let (columns, rows) = try catalog.pool.read { db in
            (try PIIColumns.coverage(db, currentKey: keyId),
             try VaultMigration.rowCoverage(db, policy: PIIPolicy(config: config), currentKey: keyId))
        }
        let sealed = columns.reduce(0) { $0 + $1.sealed } + rows.sealed
        let other = columns.reduce(0) { $0 + $1.otherKey } + rows.otherKey
        let plaintext = columns.reduce(0) { $0 + $1.plaintext } + rows.plaintext
        let stateText: String = switch state { case .off: "off"; case .open: "sealed"; case .locked: "sealed, key missing" }
        if output.json {
            CLI.printJSON([
                "state": stateText, "key_id": CLI.orNull(keyId), "sealed": sealed, "other_key": other, "plaintext": plaintext,
                "columns": columns.map { ["column": $0.column, "sealed": $0.sealed, "other_key": $0.otherKey, "plaintext": $0.plaintext] as [String: Any] }
                    + [["column": "raw and quarantined rows", "sealed": rows.sealed, "other_key": rows.otherKey, "plaintext": rows.plaintext]],
            ] as [String: Any])
            return
        }
        print("vault: \(stateText)\(keyId.map { " (key \($0))" } ?? "")")
        var table = TextTable(headers: ["where", "sealed", "other key", "plaintext"], rightAligned: [1, 2, 3])
        for c in columns { table.rows.append([c.column, CLI.count(c.sealed), CLI.count(c.otherKey), CLI.count(c.plaintext)]) }
        table.rows.append(["raw and quarantined rows", CLI.count(rows.sealed), CLI.count(rows.otherKey), CLI.count(rows.plaintext)])
        print(table.render())
        print("\(CLI.count(sealed)) PII values sealed, \(CLI.count(plaintext)) in plaintext\(other > 0 ? ", \(CLI.count(other)) under another key" : "")")
        if case .locked(let id) = state { print(VaultError.keyMissing(id).description) }
    }
}
