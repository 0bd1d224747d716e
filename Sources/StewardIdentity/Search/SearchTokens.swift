import Foundation
import GRDB
import StewardCatalog

/// What the lookup index holds for a customer's identifiers. Without the vault: the email as
/// written (its words), the phone as one backwards token (`CustomerSearch.phoneToken`) and the
/// national id's key. With the vault on, keyed blind tokens instead (HMAC, `Vault.token`): the
/// lower-cased email, the phone's last 7 digits (so any way of writing the number finds it) and
/// the national id's key — kept in the `phones` column beside the phone tokens, since words are
/// never looked for there (a word could be the start of a token). A copied catalog's index then
/// holds no identifier, and a lookup computes the same tokens from what is typed.
struct SearchTokens: Sendable {
    let vault: Vault?

    init(vault: Vault? = nil) { self.vault = vault }

    /// The tokens of the catalog a connection belongs to; refuses to build an index without the key
    /// of a sealed catalog.
    init(_ db: Database) throws {
        let box = VaultBox.of(db)
        if case .locked(let keyId) = box.state { throw VaultError.keyMissing(keyId) }
        vault = box.current
    }

    /// The digits a phone is found by when sealed: its last 7 (shorter numbers whole).
    static let phoneDigits = 7

    func email(_ email: String) -> String {
        guard let vault else { return email }
        return vault.token("email", email.lowercased())
    }

    func phone(_ phone: String) -> String? {
        guard let vault else { return CustomerSearch.phoneToken(phone) }
        let digits = phone.filter(\.isNumber)
        guard !digits.isEmpty else { return nil }
        return vault.token("phone", String(digits.suffix(Self.phoneDigits)))
    }

    func nationalId(_ id: String) -> String {
        let key = TextKey.key(id)
        guard let vault else { return key }
        return vault.token("id", key)
    }

    /// With the vault on, the FTS5 query of a lookup that is one email, one phone or one national
    /// id (by its tokens), else nil: such a query can only be found whole, never by its parts.
    func identifierQuery(_ query: String) -> String? {
        guard vault != nil else { return nil }
        let trimmed = query.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if !trimmed.contains(" ") && trimmed.contains("@") { return "emails:\(email(trimmed))" }
        let digits = trimmed.filter(\.isNumber)
        if !trimmed.contains(where: \.isLetter), digits.count >= Self.phoneDigits, let token = phone(trimmed) {
            // A long number is a phone, or a national id written as digits.
            return "phones:(\(token) OR \(nationalId(trimmed)))"
        }
        // One word with several digits may be a national id (AB123456C).
        if !trimmed.contains(" "), trimmed.filter(\.isNumber).count >= 4 { return "phones:\(nationalId(trimmed))" }
        return nil
    }
}

extension CustomerSearch {
    /// Whether the index holds blind tokens: the catalog's vault is on (with or without the key).
    static func sealedIndex(_ db: Database) throws -> Bool { VaultBox.of(db).state.isEnabled }

    /// A sealed index's answer to one email, phone or national id: the customers holding it, each an
    /// exact match (score 2, as an identifier word scores), in customer order.
    static func identifierHits(_ db: Database, match: String, limit: Int) throws -> [Hit] {
        let ids = try String.fetchAll(db, sql: """
            SELECT customer_id FROM customer_search WHERE customer_search MATCH ? ORDER BY customer_id LIMIT ?
            """, arguments: [match, limit])
        guard !ids.isEmpty else { return [] }
        let rows = try Row.fetchAll(db, sql: """
            SELECT customer_id, first_name, last_name, vault_open(email), vault_open(phone), city FROM golden_customer
            WHERE customer_id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ","))) ORDER BY customer_id
            """, arguments: StatementArguments(ids))
        return rows.enumerated().map { i, r in
            let first: String = r[1] ?? "", last: String = r[2] ?? ""
            return Hit(customerId: r[0], name: [first, last].filter { !$0.isEmpty }.joined(separator: " "),
                       email: r[3], phone: r[4], city: r[5], rank: i + 1, score: 2)
        }
    }
}

extension CustomerSearch {
    /// Rebuilds the whole lookup index from the staged records (`steward vault enable|rotate`: its
    /// identifier tokens change with the key).
    public static func rebuildIndex(_ db: Database) throws {
        _ = try update(db, scope: .all)
    }
}
