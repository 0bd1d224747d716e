import Foundation

/// One buffer written from several threads, each thread at its own indices only (the slices of
/// `Matcher.range`), so no element is touched by two threads; the buffer outlives the writes.
struct SlicedOutput<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>?
    let count: Int

    init(_ buffer: UnsafeMutableBufferPointer<T>) {
        base = buffer.baseAddress
        count = buffer.count
    }

    subscript(k: Int) -> T {
        get { base![k] }
        nonmutating set { base![k] = newValue }
    }
}
