import Foundation

/// The readers take paths: each input is written to one file in a private folder, rewritten per input.
enum FuzzFile {
    nonisolated(unsafe) static var folder: String = {
        let dir = NSTemporaryDirectory() + "steward-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    static func write(_ bytes: UnsafeBufferPointer<UInt8>, name: String) -> String {
        let path = folder + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(buffer: bytes))
        return path
    }

    static func ensure(_ name: String, _ text: String) {
        let path = folder + "/" + name
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) }
    }

    /// Physical lines: LF, CRLF or a lone CR ends one; a last line without a break counts.
    static func lineCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var n = 0, i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A { n += 1 } else if bytes[i] == 0x0D { n += 1; if i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 } }
            i += 1
        }
        if let last = bytes.last, last != 0x0A && last != 0x0D { n += 1 }
        return n
    }
}
