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

    public static func files(_ pattern: String, relativeTo dir: URL) -> [URL] {
        let full = pattern.hasPrefix("/") ? pattern : dir.appendingPathComponent(pattern).path
        guard isPattern(pattern) else {
            return FileManager.default.fileExists(atPath: full) ? [URL(fileURLWithPath: full)] : []
        }
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(full, 0, nil, &g) == 0 else { return [] }
        var urls: [URL] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] {
                let path = String(cString: p)
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                    urls.append(URL(fileURLWithPath: path))
                }
            }
        }
        return urls.sorted { $0.path < $1.path }
    }
}
