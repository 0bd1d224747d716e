/// Why a value could not be standardised. The payload is the input exactly as given (for the masked
/// display path only): the description names the problem, never the value, because it ends up in
/// quarantine reasons, flags, run messages and logs, where personal data must not be copied.
public enum StandardiseError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidEmail(String)
    case invalidPhone(String)
    case invalidDate(String)
    case ambiguousDate(String)
    case invalidPostcode(String)
    case unknownCountry(String)

    /// The raw input the error is about.
    public var value: String {
        switch self {
        case .invalidEmail(let v), .invalidPhone(let v), .invalidDate(let v), .ambiguousDate(let v),
             .invalidPostcode(let v), .unknownCountry(let v):
            return v
        }
    }

    /// Short machine-friendly reason code, e.g. for quarantine reasons and check names.
    public var code: String {
        switch self {
        case .invalidEmail: return "invalid_email"
        case .invalidPhone: return "invalid_phone"
        case .invalidDate: return "invalid_date"
        case .ambiguousDate: return "ambiguous_date"
        case .invalidPostcode: return "invalid_postcode"
        case .unknownCountry: return "unknown_country"
        }
    }

    public var description: String {
        switch self {
        case .invalidEmail: return "invalid email: expected local@domain.tld"
        case .invalidPhone: return "invalid phone: not a valid number for its country"
        case .invalidDate: return "invalid date: not a recognised calendar date"
        case .ambiguousDate: return "ambiguous date: day/month order unknown; list the format in date_formats"
        case .invalidPostcode: return "invalid postcode: does not match the country's format"
        case .unknownCountry: return "unknown country: not an ISO 3166 code or name"
        }
    }
}
