import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Why two records do or do not match: each comparison's level and weight, the prior, the result.
public struct Explanation: Sendable {
    public struct Line: Sendable {
        public var field: String
        public var a: String
        public var b: String
        /// The values as shown before a reveal: email, phone, street, dob and national id masked.
        public var maskedA: String
        public var maskedB: String
        public var level: String
        public var weight: Double
        public var termFrequency: Double
    }
    public var a: String
    public var b: String
    public var prior: Double
    public var lines: [Line]
    public var weight: Double
    public var probability: Double
    public var threshold: Double
    public var swappedNames: Bool
    public var sameCustomer: Bool
    public var customers: (String?, String?)
    public var decision: String?

    public enum Failure: Error, CustomStringConvertible {
        case badReference(String), unknownRecord(String), notMatched
        public var description: String {
            switch self {
            case .badReference(let r): return "'\(r)': expected SOURCE:RECORD"
            case .unknownRecord(let r): return "no staged person record \(r)"
            case .notMatched: return "no matching pass yet: run `steward run` first"
            }
        }
    }

    public static func explain(_ db: Database, _ refA: String, _ refB: String, threshold: Double) throws -> Explanation {
        try Explainer(db, threshold: threshold).explain(db, refA, refB)
    }
}
