/// Why a value could not be standardised. The payload is the input exactly as given.
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
        case .invalidEmail(let v): return "invalid email '\(v)': expected local@domain.tld"
        case .invalidPhone(let v): return "invalid phone '\(v)': not a valid number for its country"
        case .invalidDate(let v): return "invalid date '\(v)': not a recognised calendar date"
        case .ambiguousDate(let v):
            return "ambiguous date '\(v)': day/month order unknown; list the format in date_formats"
        case .invalidPostcode(let v): return "invalid postcode '\(v)': does not match the country's format"
        case .unknownCountry(let v): return "unknown country '\(v)': not an ISO 3166 code or name"
        }
    }
}
