import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real console under tmux: open the Roadmap pane, filter, tick a task with Space, quit, and
/// find `[x]` in the file. Skipped where tmux is not installed.
@Suite("Roadmap pane under tmux")
struct RoadmapTmuxTests {
    static var tmux: String? {
        ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs one tmux client command with posix_spawn and reaps it with waitpid: Foundation's Process
    /// never sees the client exit here, because the server it forks inherits the client's descriptors.
    /// Output (capture-pane only) goes through a temporary file.
    @discardableResult
    static func tmux(_ socket: String, _ args: [String]) throws -> String {
        let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("steward-tmux-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, args.first == "capture-pane" ? outFile : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([tmux!, "-L", socket] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, tmux!, &actions, nil, argv, environ) == 0 else { return "" }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
    }

    /// Polls the pane until `text` shows (or the time is up); returns the last capture.
    static func waitFor(_ text: String, socket: String, seconds: Double = 20) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var screen = ""
        while Date() < deadline {
            screen = try tmux(socket, ["capture-pane", "-p", "-t", "s"])
            if screen.contains(text) { return screen }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return screen
    }

    @Test func spaceTicksTheTaskInTheFile() async throws {
        guard Self.tmux != nil else { return }
        let p = TempProject("tmux")
        p.write("people.csv", "id,name\n1,Ann\n")
        let roadmap = p.write("roadmap.md", RoadmapPlans.demo)
        p.write("steward.yml", """
        name: tmuxdemo
        roadmap: roadmap.md
        sources:
          - {name: people, system: crm, entity: person, format: csv, path: people.csv, key: id, mapping: {full_name: name}}
        evidence:
          "Connect the CRM contact export": {source_loaded: people}

        """)
        let dir = p.dir.path
        let bin = StewardBinary.url.path
        let socket = "steward-rm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let run = try await offPool { try StewardBinary.run(["run", "--project", dir]) }
        #expect(run.status == 0, "\(run.stderr)")
        let (screen, after) = try await offPool { () -> (String, String) in
            defer { _ = try? Self.tmux(socket, ["kill-server"]) }
            let command = "env LANG=C.UTF-8 TERM=tmux-256color XDG_STATE_HOME=\(dir)/state \(bin) tui --project \(dir); echo EXIT=$?; sleep 4"
            try Self.tmux(socket, ["new-session", "-d", "-s", "s", "-x", "100", "-y", "30", command])
            _ = try Self.waitFor("Sources", socket: socket)
            try Self.tmux(socket, ["send-keys", "-t", "s", "5"])
            _ = try Self.waitFor("Phase 1: Foundation", socket: socket)
            try Self.tmux(socket, ["send-keys", "-t", "s", "/"])
            try Self.tmux(socket, ["send-keys", "-t", "s", "-l", "SCD"])
            try Self.tmux(socket, ["send-keys", "-t", "s", "Enter"])
            _ = try Self.waitFor("filter: SCD", socket: socket)
            try Self.tmux(socket, ["send-keys", "-t", "s", "Down", "Down", "Space"])
            let screen = try Self.waitFor("[x] Implement SCD Type 2", socket: socket)
            try Self.tmux(socket, ["send-keys", "-t", "s", "q"])
            let after = try Self.waitFor("EXIT=", socket: socket)
            return (screen, after)
        }
        #expect(screen.contains("[x] Implement SCD Type 2"), "\(screen)")
        #expect(screen.contains("ticked “Implement SCD Type 2”"))
        #expect(after.contains("EXIT=0"), "\(after)")
        let text = try String(contentsOf: roadmap, encoding: .utf8)
        #expect(text == RoadmapPlans.demo.replacingOccurrences(of: "- [ ] Implement SCD Type 2", with: "- [x] Implement SCD Type 2"))
    }
}
