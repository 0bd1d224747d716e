/// One row's standardised values, each computed once: a pattern check and the staging of the same
/// column ask for the same email, phone, date or postcode, and several ask for the row's country.
struct RowStandardised {
    enum Kind { case email, phone, date, postcode, country }
    private var entries: [(kind: Kind, input: String, context: String?, result: Result<String, StandardiseError>?)] = []

    /// Forgets the previous row's values, keeping the storage for the next row.
    mutating func reset() { entries.removeAll(keepingCapacity: true) }

    mutating func value(_ kind: Kind, _ input: String, context: String? = nil,
                        _ compute: () -> Result<String, StandardiseError>?) -> Result<String, StandardiseError>? {
        for e in entries where e.kind == kind && e.context == context && e.input == input { return e.result }
        let result = compute()
        entries.append((kind, input, context, result))
        return result
    }
}
