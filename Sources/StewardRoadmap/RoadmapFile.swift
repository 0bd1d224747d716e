import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A roadmap file on disk: ticks and unticks change exactly one checkbox byte and are written
/// atomically (temporary file in the same folder + rename, permissions kept).
///
/// ```swift
/// var file = try RoadmapFile(url: config.roadmap!)
/// let change = try file.set("3f9a0c12", to: .done)   // re-reads first if the file changed on disk
/// ```
///
/// If the file changed on disk since it was read, it is re-read and the change applied to the task
/// with the same id; if that task is gone, `RoadmapError.taskGone` is thrown and nothing is written.
public struct RoadmapFile: Sendable {
    public let url: URL
    public private(set) var document: RoadmapDocument

    public init(url: URL) throws {
        self.url = url
        self.document = try RoadmapDocument(contentsOf: url)
    }

    /// A file as it was read earlier (what the user saw): `set` re-reads it if it changed since.
    public init(url: URL, document: RoadmapDocument) {
        self.url = url
        self.document = document
    }

    /// What a `set` did.
    public struct Change: Sendable {
        public var task: RoadmapTask
        public var previous: TaskState
        /// The file had been edited by someone else and was re-read before applying the change.
        public var reloaded: Bool
        /// False when the task was already in that state (nothing written).
        public var written: Bool
    }

    /// Re-reads the file if it changed on disk. Returns true when it did.
    @discardableResult
    public mutating func reload() throws -> Bool {
        let current = try Self.readBytes(url)
        guard current != document.bytes else { return false }
        document = RoadmapDocument(bytes: current)
        return true
    }

    /// Ticks (`.done`), unticks (`.open`) or marks in progress the task with this id (or unique id prefix).
    public mutating func set(_ id: String, to state: TaskState) throws -> Change {
        let current = try Self.readBytes(url)
        var reloaded = false
        let known = document.task(id: id)
        if current != document.bytes {
            document = RoadmapDocument(bytes: current)
            reloaded = true
            if let known, document.task(id: known.id) == nil {
                throw RoadmapError.taskGone(id: known.id, text: known.plainText, path: url.path)
            }
        }
        guard let task = document.task(id: known?.id ?? id) else {
            let matches = document.tasks.filter { $0.id.hasPrefix(id) }.map(\.id)
            throw matches.count > 1 ? RoadmapError.ambiguousTask(id, matches) : RoadmapError.unknownTask(id)
        }
        guard task.state != state else { return Change(task: task, previous: task.state, reloaded: reloaded, written: false) }
        let bytes = document.setting(task.id, to: state)
        try Self.writeAtomically(bytes, to: url)
        // One byte changed: the structure (ids, lines, offsets) is the same, so no re-parse.
        if let i = document.index(of: task.id) { document = document.changing(task: i, to: state, bytes: bytes) }
        else { document = RoadmapDocument(bytes: bytes) }
        return Change(task: document.task(id: task.id) ?? task, previous: task.state, reloaded: reloaded, written: true)
    }

    static func readBytes(_ url: URL) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw RoadmapError.unreadable(url.path) }
        return [UInt8](data)
    }

    /// Writes through symlinks to the real file: temp file beside it, same mode, fsync, rename.
    public static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let target = url.resolvingSymlinksInPath().path
        var st = stat()
        let mode: mode_t = stat(target, &st) == 0 ? st.st_mode & 0o7777 : 0o644
        let dir = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        var template = Array("\(dir)/.\(name).steward-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw RoadmapError.writeFailed(target, String(cString: strerror(errno))) }
        let tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else {
                let why = String(cString: strerror(errno)); close(fd)
                throw RoadmapError.writeFailed(target, why)
            }
            written += n
        }
        fchmod(fd, mode)
        if st.st_uid != 0 || st.st_gid != 0 { _ = fchown(fd, st.st_uid, st.st_gid) }
        fsync(fd)
        close(fd)
        guard rename(tmp, target) == 0 else { throw RoadmapError.writeFailed(target, String(cString: strerror(errno))) }
        ok = true
    }
}

extension RoadmapDocument {
    /// The file's bytes with this task's checkbox character changed, and nothing else.
    /// A tick uses `X` when the file's done boxes are mostly `[X]`, else `x`.
    public func setting(_ id: String, to state: TaskState) -> [UInt8] {
        guard let task = task(id: id) else { return bytes }
        var out = bytes
        out[task.checkOffset] = checkByte(for: state)
        return out
    }

    func checkByte(for state: TaskState) -> UInt8 {
        switch state {
        case .open: return 32
        case .inProgress: return UInt8(ascii: "~")
        case .done:
            var upper = 0, lower = 0
            for t in tasks where t.state == .done {
                if bytes[t.checkOffset] == UInt8(ascii: "X") { upper += 1 } else { lower += 1 }
            }
            return upper > lower ? UInt8(ascii: "X") : UInt8(ascii: "x")
        }
    }
}
