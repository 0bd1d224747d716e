// libFuzzer target: the CSV reader, through its public API only (CSVReader(path:) / next()).
// Properties beyond "no crash": reading ends, and line numbers increase and stay within the file.
import Foundation
import StewardPipeline

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let path = FuzzFile.write(bytes, name: "input.csv")
    // A small chunk size on some inputs puts records across buffer refills.
    let chunk = size > 0 && bytes[0] & 1 == 1 ? 13 : 1 << 20
    guard let reader = try? CSVReader(path: path, chunkSize: chunk) else { return 0 }
    let lines = FuzzFile.lineCount(bytes)
    var previous = 0, count = 0
    while let record = try? reader.next() {
        count += 1
        precondition(count <= size + 1, "more records than bytes")
        precondition(record.line > previous, "line \(record.line) after \(previous)")
        precondition(record.line <= max(lines, 1), "line \(record.line) of \(lines)")
        previous = record.line
    }
    return 0
}
