/// Standardised values computed once: a pattern check and the staging of the same column ask for
/// the same email, phone, date or postcode, and several ask for the row's country. Kept across rows
/// (standardising is a pure function of the value and its context), so a value that repeats from row
/// to row, such as the country, is standardised once per run of rows.
struct RowStandardised {
    enum Kind: Int, CaseIterable { case email, phone, date, postcode, country }
    private struct Entry {
        var input: String
        var context: String?
        var result: Result<String, StandardiseError>?
    }
    /// The last value of each kind: a row asks again for the same value, rarely for two of one kind
    /// (then the second replaces the first, and asking for the first again recomputes it).
    private var entries = [Entry?](repeating: nil, count: Kind.allCases.count)

    /// The remembered result for this input and context (`.some(nil)`: the value standardises to
    /// nothing), or nil when it must be computed (then `store` it).
    func cached(_ kind: Kind, _ input: String, context: String?) -> Result<String, StandardiseError>?? {
        if let e = entries[kind.rawValue], e.input == input, e.context == context { return .some(e.result) }
        return nil
    }

    mutating func store(_ kind: Kind, _ input: String, context: String?, _ result: Result<String, StandardiseError>?) {
        entries[kind.rawValue] = Entry(input: input, context: context, result: result)
    }
}
