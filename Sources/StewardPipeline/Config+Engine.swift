import Foundation
import StewardConfig

extension ConfigVocabulary {
    /// The engine's own: its reference data's countries, its date-format grammar, its linear-time
    /// pattern matcher (a construct it cannot match linearly is refused at load).
    public static let engine = ConfigVocabulary(
        isCountryCode: { ReferenceData.shared.callingCode(forCountry: $0) != nil },
        dateFormatProblem: { Standardiser.validateDateFormat($0) },
        regexProblem: { pattern in
            do throws(RegexPatternError) { _ = try RegexPattern(validating: pattern); return nil } catch { return error.message }
        })
}

extension ConfigLoader {
    /// Loads and validates `steward.yml` against the engine's vocabulary.
    public static func load(_ file: URL) throws -> ProjectConfig { try load(file, vocabulary: .engine) }
}
