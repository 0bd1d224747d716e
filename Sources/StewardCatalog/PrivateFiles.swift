import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one place where Steward creates folders and files that hold customer data (the catalog, its
/// -wal/-shm, the log, exports, key files): folders 0700, files 0600, whatever the user's umask, so
/// another local account cannot read them. The executables also set `processUmask` at start, so
/// anything created elsewhere without an explicit mode is private too.
///
/// ```swift
/// try PrivateFiles.createFolder(keysDir)
/// try PrivateFiles.writeRegularFile(Array(csv.utf8), to: URL(fileURLWithPath: out))
/// ```
public enum PrivateFiles {
    public static let fileMode: mode_t = 0o600
    public static let folderMode: mode_t = 0o700
    /// Set first thing by `steward` and `steward-bench`: no group or other bits on anything they create.
    public static let processUmask: mode_t = 0o077

    /// Creates `dir` and its missing parents, each 0700; folders that exist are left as they are.
    public static func createFolder(_ dir: URL) throws {
        let path = dir.standardizedFileURL.path
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw PrivateFileError(path: path, reason: "\(path) is a file, not a folder") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if parent != path && !parent.isEmpty { try createFolder(URL(fileURLWithPath: parent)) }
        guard mkdir(path, folderMode) == 0 else {
            if errno == EEXIST { return }   // another process made it meanwhile: its mode is its own
            throw PrivateFileError(path: path, reason: FileProblem.describe(errno: errno))
        }
        // mkdir's mode is reduced by the umask; the folder gets exactly 0700.
        _ = chmod(path, folderMode)
    }

    /// Takes the group and other bits off an existing file or folder this user owns (a catalog an older
    /// version created 0644); never adds a bit. Returns false when it exists and could not be tightened.
    @discardableResult
    public static func tighten(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return true }
        let mode = st.st_mode & 0o7777
        guard mode & 0o077 != 0, st.st_uid == geteuid() else { return mode & 0o077 == 0 }
        return chmod(path, mode & 0o700) == 0
    }

    /// Creates `url` as an empty 0600 file when nothing is there (a new catalog, before SQLite opens it:
    /// SQLite gives the -wal and -shm the catalog's own mode).
    public static func createEmptyFile(_ url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, fileMode)
        if fd < 0 {
            if errno == EEXIST { return }
            throw PrivateFileError(path: url.path, reason: FileProblem.describe(errno: errno))
        }
        _ = fchmod(fd, fileMode)
        close(fd)
    }

    /// Opens `url` for appending (a log): created 0600 with its folder 0700; an existing file is tightened.
    public static func openForAppending(_ url: URL) throws -> FileHandle {
        try createFolder(url.deletingLastPathComponent())
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, fileMode)
        guard fd >= 0 else { throw PrivateFileError(path: url.path, reason: FileProblem.describe(errno: errno)) }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & 0o077 != 0, st.st_uid == geteuid() { _ = fchmod(fd, st.st_mode & 0o700) }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Writes `bytes` to `url` atomically with mode 0600: a new file in the same folder (O_EXCL|O_NOFOLLOW),
    /// fsync, then renamed into place. Only a regular file is ever replaced: a folder, symbolic link,
    /// FIFO, socket or device at `url` is refused (`PrivateFileError.notRegularKind` says which) and left as it is,
    /// checked again just before the rename; a path that was free is claimed with link(2), which never
    /// replaces whatever may have appeared there meanwhile.
    public static func writeRegularFile(_ bytes: [UInt8], to url: URL) throws {
        try writeRegularFile(bytes, to: url, beforePlacing: {})
    }

    /// `beforePlacing` runs between writing the temporary file and putting it in place (tests change
    /// what is at the path there, as another process could).
    static func writeRegularFile(_ bytes: [UInt8], to url: URL, beforePlacing: () throws -> Void) throws {
        let path = url.path
        try checkOutputPath(path)
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let (fd, tmp) = try createTemporary(in: dir.isEmpty ? "." : dir, near: name, for: path)
        var done = false
        defer { if !done { unlink(tmp) } }
        do {
            try writeAll(bytes, to: fd, path: path)
            _ = fchmod(fd, fileMode)
            guard fsync(fd) == 0 else { throw PrivateFileError(path: path, reason: FileProblem.describe(errno: errno)) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        try beforePlacing()
        // A free path is claimed with link(2), which fails (EEXIST) rather than replace whatever appeared
        // there meanwhile; a regular file is replaced by rename, checked with lstat just before.
        while try !checkOutputPath(path) {
            if link(tmp, path) == 0 { unlink(tmp); done = true; return }
            if errno != EEXIST { break }   // a file system without hard links: the checked rename
        }
        guard rename(tmp, path) == 0 else { throw PrivateFileError(path: path, reason: FileProblem.describe(errno: errno)) }
        done = true
    }

    /// True when a regular file is at `path`, false when nothing is (and its folder exists); throws for
    /// anything else (`notRegularKind` says what is there), never following a symbolic link.
    @discardableResult
    public static func checkOutputPath(_ path: String) throws -> Bool {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT {
                // Say which part of the path is missing: the folder, not the file.
                let dir = (path as NSString).deletingLastPathComponent
                var dst = stat()
                if !dir.isEmpty && stat(dir, &dst) != 0 { throw PrivateFileError(path: path, reason: "its folder \(dir) does not exist") }
                return false
            }
            throw PrivateFileError(path: path, reason: FileProblem.describe(errno: errno))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw PrivateFileError.notRegular(path, kind: kind(st.st_mode)) }
        return true
    }

    static func createTemporary(in dir: String, near name: String, for path: String) throws -> (Int32, String) {
        for _ in 0..<16 {
            let tmp = "\(dir)/.\(name).steward-\(UInt32.random(in: 0...UInt32.max))"
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, fileMode)
            if fd >= 0 { return (fd, tmp) }
            if errno != EEXIST { throw PrivateFileError(path: path, reason: FileProblem.describe(errno: errno)) }
        }
        throw PrivateFileError(path: path, reason: "no free temporary name in \(dir)")
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw PrivateFileError(path: path, reason: FileProblem.describe(errno: errno)) }
            written += n
        }
    }

    /// What is at a path, as a noun phrase ("a FIFO (named pipe)").
    public static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a folder"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "not a regular file"
        }
    }
}

/// A private file or folder that could not be written: the path and why, in words.
public struct PrivateFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    /// Set when something other than a regular file is at the path ("a symbolic link").
    public var notRegularKind: String?

    public init(path: String, reason: String, notRegularKind: String? = nil) {
        self.path = path
        self.reason = reason
        self.notRegularKind = notRegularKind
    }

    static func notRegular(_ path: String, kind: String) -> PrivateFileError {
        PrivateFileError(path: path, reason: "it is \(kind), not a regular file", notRegularKind: kind)
    }

    public var description: String { "cannot write \(path): \(reason)" }
}
