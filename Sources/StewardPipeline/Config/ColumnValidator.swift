import Foundation

/// Checks that every column a source maps or checks exists in its files, so a typo in steward.yml is a
/// config error (exit 2, nothing touched) rather than a run full of empty fields.
enum ColumnValidator {
    static func validate(_ config: ProjectConfig) throws {
        for source in config.sources {
            guard let available = try? columns(of: source, in: config) else { continue } // unreadable: the run reports it
            for (column, line) in source.referencedColumns where !available.contains(column) {
                throw ConfigError(file: config.file.path, line: line, key: "sources.\(source.name)",
                                  message: "column '\(column)' is not in \(source.path) (columns: \(available.sorted().joined(separator: ", ")))")
            }
        }
    }

    /// The columns of the source's first file; for NDJSON, every key path seen in its first 500 lines.
    static func columns(of source: SourceConfig, in config: ProjectConfig) throws -> Set<String>? {
        let file: URL
        if source.format == .sqlite || !Glob.isPattern(source.path) {
            file = source.path.hasPrefix("/") ? URL(fileURLWithPath: source.path) : config.directory.appendingPathComponent(source.path)
        } else {
            guard let first = Glob.files(source.path, relativeTo: config.directory).first else { return nil }
            file = first
        }
        guard FileManager.default.isReadableFile(atPath: file.path) else { return nil }
        switch source.format {
        case .csv: return Set(try CSVStream(path: file.path, delimiter: source.delimiter).header)
        case .sqlite: return Set(try SQLiteStream(path: file.path, table: source.table ?? "").header)
        case .ndjson:
            let stream = try NDJSONStream(path: file.path)
            var keys = Set<String>()
            for _ in 0..<500 {
                guard let row = try stream.next() else { break }
                if case .keyed(let dict) = row.values { keys.formUnion(dict.keys) }
            }
            return keys.isEmpty ? nil : keys
        }
    }
}
