import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether the process that recorded a run as `running` still runs it: the one liveness test of the
/// project, used by the pipeline before it starts a run (to mark dead runs `interrupted` in the
/// catalog) and by read commands and the console (to show them `interrupted` without writing).
public enum RunLiveness {
    /// A run is alive while its pid exists and is a steward process (a pid reused by another program
    /// after a SIGKILL, a crash or a reboot is not the run). The test runner's process counts as
    /// steward (StewardPackageTests), so runs started by tests in this process stay alive.
    public static func isAlive(pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        guard let cmd = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8) else { return true }
        return cmd.lowercased().contains("steward")
    }

    /// What a reader should show for a run's recorded status: `running` becomes `interrupted` once the
    /// process is gone (the next run records it so; until then only the display says it).
    public static func status(_ recorded: String, pid: Int32?) -> String {
        guard recorded == "running" else { return recorded }
        guard let pid else { return "interrupted" }
        return isAlive(pid: pid) ? "running" : "interrupted"
    }

    /// The message shown with a run that is displayed `interrupted` by `status(_:pid:)`.
    public static let goneMessage = "process stopped before the run finished"
}
