// libFuzzer target: the NDJSON reader (NDJSONStream over LineReader, internal: @testable import).
// Properties beyond "no crash": reading ends, one row per line at most, line numbers increase.
import Foundation
@testable import StewardPipeline

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNDJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let path = FuzzFile.write(bytes, name: "input.ndjson")
    guard let stream = try? NDJSONStream(path: path) else { return 0 }
    let lines = FuzzFile.lineCount(bytes)
    var previous = 0
    while let row = try? stream.next() {
        precondition(row.line > previous, "line \(row.line) after \(previous)")
        precondition(row.line <= max(lines, 1), "line \(row.line) of \(lines)")
        previous = row.line
    }
    return 0
}
