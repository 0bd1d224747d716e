import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// File globs of `path:` (`*`, `?`, `[...]`), resolved relative to the project folder, sorted by name.
public enum Glob {
    public static func isPattern(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

    /// A human message when the pattern cannot be a valid glob, else nil.
    public static func syntaxProblem(_ pattern: String) -> String? {
        if pattern.isEmpty { return "empty path" }
        var inClass = false
        for ch in pattern {
            if ch == "[" { if inClass { return "nested '[' in glob '\(pattern)'" }; inClass = true }
            if ch == "]" && inClass { inClass = false }
        }
        if inClass { return "unclosed '[' in glob '\(pattern)'" }
        if pattern.contains("**") { return "'**' is not supported; use one level of '*' per folder in '\(pattern)'" }
        return nil
    }

    public static func files(_ pattern: String, relativeTo dir: URL) -> [URL] { scan(pattern, relativeTo: dir).files }

    /// The files a pattern matches, sorted by path, and what kept it from seeing all of them: a folder it
    /// could not read, a link to nothing. A caller judging what disappeared must not trust the list then.
    public static func scan(_ pattern: String, relativeTo dir: URL) -> (files: [URL], problems: [String]) {
        let full = pattern.hasPrefix("/") ? pattern : dir.appendingPathComponent(pattern).path
        guard isPattern(pattern) else {
            return FileManager.default.fileExists(atPath: full) ? ([URL(fileURLWithPath: full)], []) : ([], [])
        }
        var g = glob_t()
        defer { globfree(&g) }
        var problems: [String] = []
        // A folder that does not exist matches nothing; any other folder it cannot read stops the scan.
        switch glob(full, 0, { _, error in error == ENOENT || error == ENOTDIR ? 0 : 1 }, &g) {
        case 0: break
        case GLOB_NOMATCH: return ([], [])
        case GLOB_ABORTED:
            return ([], ["'\(pattern)': a folder it goes through cannot be read (\(String(cString: strerror(errno)))); "
                         + "no file was loaded and nothing is judged deleted"])
        default: return ([], ["'\(pattern)': the pattern could not be expanded"])
        }
        var urls: [URL] = []
        for i in 0..<Int(g.gl_pathc) {
            guard let p = g.gl_pathv[i] else { continue }
            let path = String(cString: p)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                if !isDir.boolValue { urls.append(URL(fileURLWithPath: path)) }
            } else if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil {
                problems.append("\(path): a link to a file that does not exist")
            }
        }
        return (urls.sorted { $0.path < $1.path }, problems)
    }
}
