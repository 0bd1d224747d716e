import Foundation

/// What `steward.yml` may name that only the engine knows: country codes (its reference data), date
/// formats and regular expressions (its standardisers and matcher). The config module checks a file's
/// shape on its own and asks these for the values, so a config error still names file, line and key
/// without the config module depending on the engine.
public struct ConfigVocabulary: Sendable {
    /// Whether an ISO 3166 alpha-2 code is a known country.
    public var isCountryCode: @Sendable (String) -> Bool
    /// Why a `date_formats:` entry cannot be used, or nil.
    public var dateFormatProblem: @Sendable (String) -> String?
    /// Why a `pattern: {regex:}` cannot be evaluated safely, or nil.
    public var regexProblem: @Sendable (String) -> String?

    public init(isCountryCode: @escaping @Sendable (String) -> Bool,
                dateFormatProblem: @escaping @Sendable (String) -> String?,
                regexProblem: @escaping @Sendable (String) -> String?) {
        self.isCountryCode = isCountryCode
        self.dateFormatProblem = dateFormatProblem
        self.regexProblem = regexProblem
    }
}
