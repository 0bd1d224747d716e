import Foundation
import StewardConfig

/// Finds the project a command works on (CONTRACTS.md): `--project DIR`, else the nearest steward.yml
/// from the current folder up, else the bundled demo, generated and run on first use.
public enum ProjectLocator {
    public enum Found {
        case project(URL)
        case demo(URL)
    }

    public static func locate(explicit: String?, cwd: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) throws -> Found {
        if let explicit {
            var url = URL(fileURLWithPath: explicit, relativeTo: cwd).standardizedFileURL
            if !url.path.hasSuffix(".yml") && !url.path.hasSuffix(".yaml") { url = url.appendingPathComponent(ConfigLoader.fileName) }
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ConfigError(file: url.path, line: nil, key: "--project", message: "no steward.yml here; create one with `steward init \(explicit)`")
            }
            return .project(url)
        }
        if let found = ConfigLoader.find(from: cwd) { return .project(found) }
        return .demo(demoDirectory.appendingPathComponent(ConfigLoader.fileName))
    }

    /// `${STEWARD_HOME:-${XDG_DATA_HOME:-~/.local/share}/steward}/demo`
    public static var demoDirectory: URL {
        let env = ProcessInfo.processInfo.environment
        if let home = env["STEWARD_HOME"], !home.isEmpty { return URL(fileURLWithPath: home).appendingPathComponent("demo") }
        let data = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share").path
        return URL(fileURLWithPath: data).appendingPathComponent("steward/demo")
    }
}
