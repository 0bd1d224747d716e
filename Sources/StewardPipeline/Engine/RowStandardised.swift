/// One row's standardised values, each computed once: a pattern check and the staging of the same
/// column ask for the same email, phone, date or postcode, and several ask for the row's country.
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

    /// Forgets the previous row's values, keeping the storage for the next row.
    mutating func reset() { for i in entries.indices { entries[i] = nil } }

    mutating func value(_ kind: Kind, _ input: String, context: String? = nil,
                        _ compute: () -> Result<String, StandardiseError>?) -> Result<String, StandardiseError>? {
        if let e = entries[kind.rawValue], e.input == input, e.context == context { return e.result }
        let result = compute()
        entries[kind.rawValue] = Entry(input: input, context: context, result: result)
        return result
    }
}
