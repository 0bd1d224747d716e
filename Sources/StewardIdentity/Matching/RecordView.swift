import Foundation

/// The records read in place, from one thread or several: `view[i]` borrows the element (an array
/// subscript copies it out, retaining each of its dozen arrays), which the hot loops cannot afford.
/// Valid only inside `with`, while the array is alive and unchanged.
struct RecordView: @unchecked Sendable {
    let base: UnsafePointer<PersonRecord>?

    subscript(i: Int) -> PersonRecord {
        unsafeAddress { base! + i }
    }

    /// The record's address, for functions that read its fields in place (`Comparator.compare`).
    func pointer(_ i: Int) -> UnsafePointer<PersonRecord> { base! + i }

    static func with<R>(_ records: [PersonRecord], _ body: (RecordView) throws -> R) rethrows -> R {
        try records.withUnsafeBufferPointer { try body(RecordView(base: $0.baseAddress)) }
    }
}
