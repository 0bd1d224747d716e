import Foundation
@testable import StewardCatalog
@testable import StewardPipeline
@testable import StewardConfig

/// A fresh temporary project folder per test: no shared state, no order dependence.
final class TempProject {
    let dir: URL

    init(_ name: String = "p") {
        dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("steward-test-\(name)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func write(_ relative: String, _ text: String) -> URL {
        let url = dir.appendingPathComponent(relative)
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Rewrites a file of the project with `old` replaced by `new` (a new export of a source).
    func edit(_ relative: String, replacing old: String, with new: String) throws {
        let text = try String(contentsOf: dir.appendingPathComponent(relative), encoding: .utf8)
        precondition(text.contains(old), "\(relative) has no '\(old)'")
        write(relative, text.replacingOccurrences(of: old, with: new))
    }

    var ymlURL: URL { dir.appendingPathComponent("steward.yml") }

    func config() throws -> ProjectConfig { try ConfigLoader.load(ymlURL) }

    func catalog() throws -> Catalog { try Catalog.open(at: try config().catalogURL) }

    @discardableResult
    func run(_ sources: [String] = [], now: Date = Date(), rollbackJournalMinimumBytes: Int64? = nil) throws -> RunSummary {
        let config = try config()
        return try PipelineRunner(config: config, catalog: try Catalog.open(at: config.catalogURL), now: { now },
                                  rollbackJournalMinimumBytes: rollbackJournalMinimumBytes).run(sources: sources)
    }

    func scalar<T: DatabaseValueConvertibleShim>(_ sql: String) throws -> T? {
        try catalog().pool.read { db in try T.fetchOneShim(db, sql) }
    }
}

import GRDB
protocol DatabaseValueConvertibleShim { static func fetchOneShim(_ db: Database, _ sql: String) throws -> Self? }
extension Int: DatabaseValueConvertibleShim { static func fetchOneShim(_ db: Database, _ sql: String) throws -> Int? { try Int.fetchOne(db, sql: sql) } }
extension String: DatabaseValueConvertibleShim { static func fetchOneShim(_ db: Database, _ sql: String) throws -> String? { try String.fetchOne(db, sql: sql) } }
extension Double: DatabaseValueConvertibleShim { static func fetchOneShim(_ db: Database, _ sql: String) throws -> Double? { try Double.fetchOne(db, sql: sql) } }

/// The built `steward` binary, for end-to-end tests (built by `swift test` with the package).
enum StewardBinary {
    static var url: URL {
        // The test bundle sits in .build/<triple>/debug; the executable is next to it.
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("steward")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/steward")
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    @discardableResult
    static func run(_ args: [String], cwd: URL? = nil, env: [String: String] = [:],
                    via wrapper: [String] = []) throws -> Result {
        let (p, out, err) = try start(args, cwd: cwd, env: env, via: wrapper)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

extension StewardBinary {
    /// Starts the binary without waiting for it; `via` runs it through another program (e.g.
    /// `["/usr/bin/setpriv", "--reuid=65534", …]`, whose first word is the program).
    static func start(_ args: [String], cwd: URL? = nil, env: [String: String] = [:],
                      via wrapper: [String] = []) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = wrapper.first.map { URL(fileURLWithPath: $0) } ?? url
        p.arguments = wrapper.isEmpty ? args : Array(wrapper.dropFirst()) + [url.path] + args
        if let cwd { p.currentDirectoryURL = cwd }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }
}

/// Runs blocking work (child processes, polling) on a GCD thread, so long end-to-end tests never
/// occupy Swift Testing's small cooperative pool (2 threads here) while async tests wait for it.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
        }
    }
}
