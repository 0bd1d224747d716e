import Foundation
import GRDB
import StewardCatalog
import StewardPipeline

/// Exact identifier lookup (`GET /v1/customers/lookup?email=|phone=`): the customers one of whose
/// records holds this email, or this phone however it is written. Candidates come from the lookup
/// index (its blind tokens when the vault is on, so nothing is decrypted to find them); each is then
/// confirmed against its records' standardised values, so a shared 7-digit phone suffix or a
/// similar email never answers.
///
/// ```swift
/// let ids = try catalog.pool.read { try CustomerLookup.find($0, .phone("(555) 010-4477"), defaultRegion: "US") }
/// ```
public enum CustomerLookup {
    public enum Identifier: Sendable, Equatable {
        case email(String)
        case phone(String)
    }

    /// At most this many candidate customers are confirmed per lookup.
    static let candidateLimit = 50

    /// The customers holding the identifier, in customer order (usually one; none when unknown or
    /// when the text is no email or phone).
    public static func find(_ db: Database, _ identifier: Identifier, defaultRegion: String) throws -> [String] {
        let standardiser = Standardiser(reference: ReferenceData.shared, defaultRegion: defaultRegion)
        let query: String
        let matches: (_ email: String?, _ phone: String?) -> Bool
        switch identifier {
        case .email(let text):
            guard case .success(let email)? = standardiser.email(text) else { return [] }
            query = email
            matches = { stored, _ in stored?.lowercased() == email }
        case .phone(let text):
            let digits = phoneDigits(text)
            guard digits.count >= 7 else { return [] }
            let e164 = (try? standardiser.phone(text, region: defaultRegion)?.get()).map(phoneDigits)
            query = text.filter { $0.isNumber || $0 == "+" }
            matches = { _, stored in
                guard let stored else { return false }
                let storedDigits = phoneDigits(stored)
                // The same number in E.164, or a national number written without its country code.
                return storedDigits == e164 || storedDigits.hasSuffix(digits)
            }
        }
        let candidates = Set(try CustomerSearch.search(db, query: query, limit: candidateLimit).map(\.customerId))
        guard !candidates.isEmpty else { return [] }
        var found: [String] = []
        for id in candidates.sorted() {
            let records = try Row.fetchAll(db, sql: """
                SELECT vault_open(p.email), vault_open(p.phone) FROM identity_member m
                JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key AND p.is_deleted = 0
                WHERE m.customer_id = ?
                """, arguments: [id])
            if records.contains(where: { matches($0[0], $0[1]) }) { found.append(id) }
        }
        return found
    }

    /// A phone's digits without the international prefix or trunk zeros ("0044 20…" → "4420…",
    /// "020 7946…" → "207946…"): what a number written any way ends with.
    static func phoneDigits(_ text: String) -> String {
        String(text.filter(\.isASCII).filter(\.isNumber).drop { $0 == "0" })
    }
}
