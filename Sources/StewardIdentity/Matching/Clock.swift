import Foundation

struct Clock {
    var start = Date()
    var laps: [String: Double] = [:]
    /// Process CPU seconds (every thread, user and system) per lap: wall time doubles when another
    /// process has the other core, CPU time does not.
    var cpuLaps: [String: Double] = [:]
    private var cpuStart = Clock.cpuNow()

    mutating func lap(_ name: String) {
        let now = Date(), cpu = Self.cpuNow()
        laps[name] = now.timeIntervalSince(start)
        cpuLaps[name] = cpu - cpuStart
        start = now
        cpuStart = cpu
    }

    /// The process's peak resident memory so far in MB (Linux's VmHWM), nil where it cannot be read.
    static func peakResidentMB() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") else { return nil }
        return kb / 1024
    }

    static func cpuNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
