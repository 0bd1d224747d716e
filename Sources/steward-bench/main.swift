import Foundation
import GRDB
import StewardCatalog
import StewardMetrics
import StewardConsole
import StewardIdentity
import StewardDemo
import StewardPipeline
import StewardRoadmap
#if canImport(Glibc)
import Glibc
import StewardConfig
#endif

// The bench writes catalogs of generated people like `steward` does: private whatever the umask.
umask(PrivateFiles.processUmask)

/// steward-bench: prints one JSON object of measurements. Run from a release build:
///   swift build -c release && .build/release/steward-bench [ingest|demo|identity|roadmap|kpi|all] [--rows N] [--customers N] [--tasks N]
///   .build/release/steward-bench match --suite [--seed N] [--scale X] [--families 1,2,3,4,5]   (generated labelled families, F1 each)
///   .build/release/steward-bench ingest [--shape demo|quoted-street] [--rows N] [--repeat N] [--steward PATH] [--work DIR]
///   .build/release/steward-bench matcher --project DIR [--set max_block_size=8 …]   (a demo loaded with `steward run --load-only`;
///   STEWARD_BENCH_DIAG=1 also prints the false merges and missed true pairs by comparison pattern)
/// Each figure is compared against a reference measured in the same run where the issue asks for one.

struct Measured { var seconds: Double; var maxRSSMB: Double; var status: Int32; var cpuSeconds: Double = 0 }

/// Runs a command as a child process; wall time and the child's peak RSS. The RSS comes from GNU
/// time (`/usr/bin/time -f %M`) because a child spawned from this large process inherits its
/// pre-exec RSS in wait4's rusage.
func measure(_ command: String, _ commandArgs: [String], stdin: String? = nil) -> Measured {
    let timeTool = "/usr/bin/time"
    let rssFile = NSTemporaryDirectory() + "steward-bench-rss-\(getpid())"
    let useTime = FileManager.default.isExecutableFile(atPath: timeTool)
    let path = useTime ? timeTool : command
    let args = useTime ? ["-f", "%M", "-o", rssFile, command] + commandArgs : commandArgs
    var pid: pid_t = 0
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    // STEWARD_BENCH_STDERR=FILE keeps the children's stderr (e.g. with STEWARD_IDENTITY_TIMINGS=1).
    let stderrPath = ProcessInfo.processInfo.environment["STEWARD_BENCH_STDERR"] ?? "/dev/null"
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    if let stdin { posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0) }
    let argv = ([path] + args).map { strdup($0) } + [nil]
    let start = Date()
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else { fatalError("cannot start \(path): \(rc)") }
    var status: Int32 = 0
    var usage = rusage()
    wait4(pid, &status, 0, &usage)
    let elapsed = Date().timeIntervalSince(start)
    argv.forEach { free($0) }
    var rssKB = Double(usage.ru_maxrss)
    if useTime, let text = try? String(contentsOfFile: rssFile, encoding: .utf8),
       let last = text.split(separator: "\n").last, let kb = Double(last.trimmingCharacters(in: .whitespaces)) {
        rssKB = kb
    }
    try? FileManager.default.removeItem(atPath: rssFile)
    // CPU time (user + system) is the child's own: unlike its RSS, not inherited from this process.
    let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return Measured(seconds: elapsed, maxRSSMB: rssKB / 1024, status: (status >> 8) & 0xff, cpuSeconds: cpu)
}

func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        let p = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

let args = Array(CommandLine.arguments.dropFirst())
func stringOption(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
// The steward next to this binary (same build), or --steward PATH: another build on the same file.
let steward = stringOption("--steward") ?? exeDir.appendingPathComponent("steward").path
let mode = args.first.map { $0.hasPrefix("--") ? "all" : $0 } ?? "all"
func option(_ name: String, _ def: Int) -> Int {
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return def }
    return v
}
// --work DIR keeps the generated projects (e.g. to count a run's instructions under valgrind afterwards).
let keptWork = stringOption("--work").map { URL(fileURLWithPath: $0) }
let work = keptWork ?? URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("steward-bench-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { if keptWork == nil { try? FileManager.default.removeItem(at: work) } }
// --vault on|off (default off): the projects' privacy vault. Its keys live with the work folder
// (this process and the steward runs it starts read the same ones), never in the user's own.
let vaultOn = stringOption("--vault") == "on"
// `serve` hands the user's own to the server it starts (its project is the user's).
let originalConfigHome = ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"] ?? ""
setenv("XDG_CONFIG_HOME", work.appendingPathComponent("keys").path, 1)

/// Sets a generated project's privacy vault to `--vault`.
func applyVault(_ project: URL) throws {
    let url = project.appendingPathComponent("steward.yml")
    var yml = try String(contentsOf: url, encoding: .utf8)
    yml = yml.replacingOccurrences(of: "privacy: {vault: true}\n", with: "")
    if vaultOn { yml = yml.replacingOccurrences(of: "default_region: US\n", with: "default_region: US\nprivacy: {vault: true}\n") }
    try yml.write(to: url, atomically: true, encoding: .utf8)
}
var result: [String: Any] = [
    "machine": ["cores": ProcessInfo.processInfo.activeProcessorCount,
                "memory_gb": Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824],
]

if mode == "demo" || mode == "all" {
    let n = option("--customers", 1_000_000)
    let start = Date()
    let manifest = try DemoGenerator(customers: n, seed: 42).write(to: work.appendingPathComponent("demo"))
    result["demo_generator"] = ["customers": n, "seconds": Date().timeIntervalSince(start),
                                "rows": manifest.sources.values.reduce(0) { $0 + $1.rows }]
    try? FileManager.default.removeItem(at: work.appendingPathComponent("demo"))
}

if mode == "ingest" || mode == "all" {
    // --shape demo (default): person rows of the demo's CRM shape with the demo CRM source's checks;
    // --shape quoted-street: a narrower file whose street is always quoted and holds a comma.
    let rows = option("--rows", 1_000_000)
    let shape = stringOption("--shape") ?? "demo"
    let file: IngestFile
    switch shape {
    case "demo": file = try demoIngestFile(rows: rows, in: work.appendingPathComponent("ingest"))
    case "quoted-street": file = try quotedStreetIngestFile(rows: rows, in: work.appendingPathComponent("ingest"))
    default:
        FileHandle.standardError.write(Data("steward-bench: --shape is demo or quoted-street, not \(shape)\n".utf8))
        if keptWork == nil { try? FileManager.default.removeItem(at: work) }  // exit skips the top-level defer
        exit(2)
    }
    let (ingest, reference) = try measureIngest(file, repeats: max(1, option("--repeat", 3)))
    result["ingest"] = ingest
    result["reference"] = reference
    if shape == "demo", mode == "all" || args.contains("--console") {
        result["console"] = try measureConsole(project: file.project)
    }
}

/// One CSV file in a project whose steward.yml has one source reading it.
struct IngestFile {
    var shape: String
    var project: URL
    var csv: URL
    var source: String
    var rows: Int
    /// Rows the generator made to fail an error check (nil where it does not know).
    var failingRows: Int?
}

/// `rows` person rows of the demo's CRM shape (17 columns incl. quoted multi-line notes) in one CSV,
/// read by the demo CRM source with its 8 checks.
func demoIngestFile(rows: Int, in project: URL) throws -> IngestFile {
    let people = Int(Double(rows) / 0.72) + 1
    _ = try DemoGenerator(customers: people, seed: 7).write(to: project)
    let crmFiles = Glob.files("sources/crm/*.csv", relativeTo: project)
    // One file: the header once, then every data row of the CRM files.
    let single = project.appendingPathComponent("sources/crm_all.csv")
    _ = FileManager.default.createFile(atPath: single.path, contents: nil)
    let out = try FileHandle(forWritingTo: single)
    var written = 0
    for (i, file) in crmFiles.enumerated() {
        let reader = try CSVReader(path: file.path)
        let header = try reader.next()!
        if i == 0 { out.write(Data((csvLine(header.fields) + "\n").utf8)) }
        var chunk = ""
        while let r = try reader.next(), written < rows {
            chunk += csvLine(r.fields) + "\n"
            written += 1
            if chunk.utf8.count > 1 << 20 { out.write(Data(chunk.utf8)); chunk = "" }
        }
        out.write(Data(chunk.utf8))
        try FileManager.default.removeItem(at: file)
    }
    try out.close()
    var yml = try String(contentsOf: project.appendingPathComponent("steward.yml"), encoding: .utf8)
    yml = yml.replacingOccurrences(of: "sources/crm/contacts_*.csv", with: "sources/crm_all.csv")
    try yml.write(to: project.appendingPathComponent("steward.yml"), atomically: true, encoding: .utf8)
    try applyVault(project)
    return IngestFile(shape: "demo", project: project, csv: single, source: "crm_contacts", rows: written, failingRows: nil)
}

/// `rows` rows of id, first_name, last_name, email, street, city, postcode, country (seed fixed), the
/// street always quoted with a comma inside ("12 Main St, Apt 4"), the postcode in its country's
/// format. About 3.5 % of the rows fail one error check each: an empty email (not_null), a malformed
/// one (pattern email), a repeated id (unique) or a country outside US, GB, DE (accepted_values).
func quotedStreetIngestFile(rows: Int, in project: URL) throws -> IngestFile {
    try FileManager.default.createDirectory(at: project.appendingPathComponent("sources"), withIntermediateDirectories: true)
    try """
    name: bench-quoted-street
    catalog: .steward/catalog.sqlite
    default_region: US
    sources:
      - name: people
        system: crm
        entity: person
        format: csv
        path: sources/people.csv
        key: id
        snapshot: full
        mapping:
          first_name: first_name
          last_name: last_name
          email: email
          street: street
          city: city
          postcode: postcode
          country: country
        checks:
          - not_null: [id, email]
          - unique: id
          - pattern: {column: email, format: email}
          - accepted_values: {column: country, values: [US, GB, DE]}

    """.write(to: project.appendingPathComponent("steward.yml"), atomically: true, encoding: .utf8)
    let firstNames = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
                      "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
                      "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Lukas", "Mia", "Leon", "Hannah"]
    let lastNames = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
                     "Taylor", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Green", "Hall", "Wood",
                     "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"]
    let streets = ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Rd", "High Street", "Station Road", "Church Lane",
                   "Hauptstraße", "Schulweg", "Bahnhofstraße", "Elm St", "Pine Ct", "Lake View Blvd", "Mill Road"]
    let units = ["Apt", "Suite", "Flat", "Unit", "Floor"]
    let cities = ["US": ["Springfield", "Portland", "Austin", "Denver", "Columbus"],
                  "GB": ["London", "Leeds", "Bristol", "Glasgow", "Cardiff"],
                  "DE": ["Berlin", "Hamburg", "München", "Köln", "Leipzig"]]
    let domains = ["example.com", "mail.test", "post.example.org", "inbox.example.net"]
    let countries = ["US", "US", "US", "GB", "DE"]
    let letters = Array("ABDEFGHJLNPRSTUWXYZ")
    // xorshift64* with a fixed seed: the same file on every machine and every run.
    var state: UInt64 = 0x15_15_15_15
    func random() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    func pick<T>(_ xs: [T]) -> T { xs[Int(random() % UInt64(xs.count))] }
    func digits(_ n: Int) -> String { (0..<n).map { _ in String(random() % 10) }.joined() }

    let csv = project.appendingPathComponent("sources/people.csv")
    _ = FileManager.default.createFile(atPath: csv.path, contents: nil)
    let out = try FileHandle(forWritingTo: csv)
    var chunk = "id,first_name,last_name,email,street,city,postcode,country\n"
    var failing = 0, previousId = ""
    for i in 1...max(rows, 1) {
        let first = pick(firstNames), last = pick(lastNames)
        var country = pick(countries)
        // GB's outward and inward codes ("SW1 4AB"); US ZIPs and German PLZ have five digits.
        let postcode = country == "GB"
            ? "\(pick(letters))\(pick(letters))\(random() % 9 + 1) \(random() % 10)\(pick(letters))\(pick(letters))"
            : digits(5)
        let city = pick(cities[country]!)
        let street = "\(random() % 999 + 1) \(pick(streets)), \(pick(units)) \(random() % 40 + 1)"
        var id = "P\(i)"
        var email = "\(first.lowercased()).\(last.lowercased())\(random() % 100)@\(pick(domains))"
        // One failure per failing row, so the count of rows to quarantine is known.
        var fails = true
        switch random() % 1000 {
        case 0..<10: email = ""
        case 10..<20: email = email.replacingOccurrences(of: "@", with: ".")
        case 20..<25 where i > 1: id = previousId
        case 25..<35: country = "FR"
        default: fails = false
        }
        if fails { failing += 1 }
        previousId = id
        chunk += "\(id),\(first),\(last),\(email),\"\(street)\",\(city),\(postcode),\(country)\n"
        if chunk.utf8.count > 1 << 20 { out.write(Data(chunk.utf8)); chunk = "" }
    }
    out.write(Data(chunk.utf8))
    try out.close()
    try applyVault(project)
    return IngestFile(shape: "quoted-street", project: project, csv: csv, source: "people", rows: max(rows, 1), failingRows: failing)
}

/// sqlite3 `.import` of the file and `steward run --source S --load-only` on a fresh catalog,
/// alternating `repeats` times, best of each: on a shared machine a single pair mostly measures the neighbours.
func measureIngest(_ file: IngestFile, repeats: Int) throws -> (ingest: [String: Any], reference: [String: Any]) {
    func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? ""
    }
    let loadBefore = loadAverage()
    let size = (try FileManager.default.attributesOfItem(atPath: file.csv.path)[.size] as? Int) ?? 0
    var reference: [String: Any] = ["tool": "sqlite3 .import"]
    var referenceSeconds: [Double] = [], stewardSeconds: [Double] = [], stewardCPU: [Double] = []
    var best = Measured(seconds: 0, maxRSSMB: 0, status: 0)
    var peakRSS = 0.0
    for _ in 0..<repeats {
        if let sqlite = which("sqlite3") {
            let db = work.appendingPathComponent("import.db").path
            try? FileManager.default.removeItem(atPath: db)
            let r = measure(sqlite, [db, "-cmd", ".mode csv", ".import \(file.csv.path) t"])
            referenceSeconds.append(r.seconds)
            reference["max_rss_mb"] = r.maxRSSMB
        }
        try? FileManager.default.removeItem(at: file.project.appendingPathComponent(".steward"))
        let run = measure(steward, ["run", "--project", file.project.path, "--source", file.source, "--load-only"])
        stewardSeconds.append(run.seconds)
        stewardCPU.append(run.cpuSeconds)
        peakRSS = max(peakRSS, run.maxRSSMB)
        if best.seconds == 0 || run.seconds < best.seconds { best = run }
    }
    if let fastest = referenceSeconds.min() {
        reference["seconds"] = fastest
        reference["rows_per_second"] = Double(file.rows) / fastest
        reference["all_seconds"] = referenceSeconds
    }
    // Best effort: another steward (--steward) may leave a catalog of an older schema; its counts are then left out.
    let counts = try? Catalog.open(at: file.project.appendingPathComponent(".steward/catalog.sqlite"), readOnly: true).tableCounts()
    var ingest: [String: Any] = [
        "shape": file.shape, "steward": steward,
        "rows": file.rows, "file_mb": Double(size) / 1_048_576, "seconds": best.seconds, "rows_per_second": Double(file.rows) / best.seconds,
        "cpu_seconds": best.cpuSeconds, "all_cpu_seconds": stewardCPU,
        "max_rss_mb": peakRSS, "exit_status": best.status, "all_seconds": stewardSeconds, "repeats": repeats,
        "load_average_before": loadBefore, "load_average": loadAverage(),
    ]
    if let counts {
        ingest["raw_rows"] = counts["raw_record"] ?? 0
        ingest["staged_rows"] = counts["staged_person"] ?? 0
        ingest["quarantined_rows"] = counts["quarantine"] ?? 0
    }
    if let failing = file.failingRows { ingest["generated_failing_rows"] = failing }
    if let ref = reference["rows_per_second"] as? Double { ingest["share_of_sqlite3_rate"] = (Double(file.rows) / best.seconds) / ref }
    return (ingest, reference)
}

if mode == "kpi" {
    result["kpi"] = try measureKPIs(customers: option("--customers", 1_000_000), historyDays: option("--history-days", 30))
}

/// Evaluating every KPI (built-in measures, manual ones, status, trend, stored measurement) and the
/// whole `check` (KPIs, anomalies, sources, checks) on the demo catalog of N customers with 30 days of
/// load history (a run every 15 minutes) and a KPI measurement after each of those runs. Goal ≤ 100 ms.
func measureKPIs(customers: Int, historyDays: Int) throws -> [String: Any] {
    let project = work.appendingPathComponent("kpi")
    _ = try DemoGenerator(customers: customers, seed: 42).write(to: project)
    let config = try ConfigLoader.load(project.appendingPathComponent("steward.yml"))
    let catalog = try Catalog.open(at: config.catalogURL)
    let definitions = KPIDefinition.all(config: config, roadmap: RoadmapKPIs.load(config: config))
    // History first (older timestamps, lower ids), then the real run on top of it.
    let now = Date()
    let runsPerDay = 96
    let historyRuns = historyDays * runsPerDay
    try catalog.pool.write { db in
        for s in config.sources {
            try db.execute(sql: """
                INSERT INTO source (name, system, entity, format, path, key_column, warn_after_seconds, error_after_seconds, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [s.name, s.system, s.entity.rawValue, s.format.rawValue, s.path, s.key, s.warnAfter, s.errorAfter,
                                 Timestamp.string(now)])
        }
        for i in 0..<historyRuns {
            let start = now.addingTimeInterval(-Double(historyRuns - i) * 900 - 600)
            let at = Timestamp.string(start)
            let end = Timestamp.string(start.addingTimeInterval(30 + Double(i % 7)))
            try db.execute(sql: """
                INSERT INTO run (trigger, status, started_at, finished_at, actor, rows_read, rows_loaded, rows_quarantined)
                VALUES ('schedule', 'success', ?, ?, 'bench', ?, ?, ?)
                """, arguments: [at, end, 6000 + i % 50, 5990 + i % 50, 10])
            let runId = db.lastInsertedRowID
            for s in config.sources {
                try db.execute(sql: """
                    INSERT INTO run_step (run_id, source, status, started_at, finished_at, duration_ms, batches, rows_read, rows_loaded, rows_quarantined)
                    VALUES (?, ?, 'success', ?, ?, 5000, 1, ?, ?, 2)
                    """, arguments: [runId, s.name, at, end, 1000 + i % 40, 998 + i % 40])
                try db.execute(sql: """
                    INSERT INTO batch (source, run_id, file, sha256, size, rows, rows_loaded, rows_quarantined, loaded_at)
                    VALUES (?, ?, ?, ?, 1, 1000, 998, 2, ?)
                    """, arguments: [s.name, runId, "history/\(i).csv", "h\(i)", end])
            }
            try db.execute(sql: "INSERT INTO quality_snapshot (run_id, score, dimensions_json, at) VALUES (?, ?, '{}', ?)",
                           arguments: [runId, 0.97 + Double(i % 5) / 1000, end])
            for d in definitions {
                try db.execute(sql: """
                    INSERT INTO kpi_measurement (kpi, name, at, run_id, measure, value, status, target, detail)
                    VALUES (?, ?, ?, ?, ?, ?, 'met', ?, '')
                    """, arguments: [d.key, d.name, end, runId, d.measure.rawValue, d.measure == .manual ? nil : Double(i % 100),
                                     d.targetText])
            }
        }
    }
    let run = measure(steward, ["run", "--project", project.path])
    var evaluate: [Double] = [], check: [Double] = []
    for _ in 0..<20 {
        var t = Date()
        _ = try KPIEvaluator(config: config, catalog: catalog).evaluate()
        evaluate.append(Date().timeIntervalSince(t) * 1000)
        t = Date()
        _ = try HealthCheck(config: config, catalog: catalog).report()
        check.append(Date().timeIntervalSince(t) * 1000)
    }
    var perMeasure: [String: Double] = [:]
    let measures = Measures(catalog: catalog, now: Date(), primarySystem: config.matching.primarySystem)
    for d in definitions {
        let t = Date()
        _ = try measures.measure(d)
        perMeasure[d.name] = Date().timeIntervalSince(t) * 1000
    }
    var t = Date()
    _ = RoadmapKPIs.load(config: config)
    perMeasure["(roadmap metric tables)"] = Date().timeIntervalSince(t) * 1000
    let evaluator = KPIEvaluator(definitions: definitions, catalog: catalog)
    let statuses = try evaluator.evaluate(store: false)
    t = Date()
    try evaluator.store(statuses, runId: nil)
    perMeasure["(store measurements)"] = Date().timeIntervalSince(t) * 1000
    t = Date()
    _ = try catalog.sourceOverviews()
    perMeasure["(sourceOverviews)"] = Date().timeIntervalSince(t) * 1000
    t = Date()
    _ = try catalog.qualityOverview(trendLength: 1)
    perMeasure["(qualityOverview)"] = Date().timeIntervalSince(t) * 1000
    t = Date()
    _ = try AnomalyDetector().detect(catalog: catalog)
    perMeasure["(anomalies)"] = Date().timeIntervalSince(t) * 1000
    let counts = try catalog.tableCounts()
    let measurements = try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM kpi_measurement") ?? 0 }
    func stats(_ ms: [Double]) -> [String: Double] {
        let s = ms.sorted()
        return ["median_ms": s[s.count / 2], "max_ms": s.last!, "min_ms": s.first!]
    }
    return [
        "customers": customers, "kpis": definitions.count, "staged_person_rows": counts["staged_person"] ?? 0,
        "runs": counts["run"] ?? 0, "batches": counts["batch"] ?? 0, "kpi_measurements": measurements,
        "pipeline_run_seconds": run.seconds, "pipeline_exit_status": run.status,
        "evaluate_all_kpis": stats(evaluate), "one_evaluation_ms": perMeasure, "check_report": stats(check), "goal_ms": 100,
    ]
}

/// Console figures on the ingest catalog (1,000,000 staged person rows): refresh queries per pane,
/// first frame, key to frame, and the real console's RSS under tmux.
@MainActor
func measureConsole(project: URL) throws -> [String: Any] {
    let catalogURL = project.appendingPathComponent(".steward/catalog.sqlite")
    let catalog = try Catalog.open(at: catalogURL, readOnly: true)
    func median(_ times: Int = 15, _ body: () throws -> Void) rethrows -> Double {
        var samples: [Double] = []
        for _ in 0..<times { let t = Date(); try body(); samples.append(Date().timeIntervalSince(t) * 1000) }
        return samples.sorted()[samples.count / 2]
    }
    let source = try catalog.projectSources().first ?? ""
    let refresh: [String: Double] = [
        "sources_pane_ms": try median { _ = try catalog.sourceOverviews() },
        "quality_pane_ms": try median { _ = try catalog.qualityOverview() },
        "runs_pane_ms": try median { _ = try catalog.runs(limit: 50); _ = try catalog.auditTail(limit: 100) },
        "source_detail_ms": try median { _ = try catalog.sourceDetail(source) },
        "full_snapshot_ms": try median { _ = try SnapshotSource.load(from: catalog, SnapshotRequest()) },
    ]
    // First frame in process: session, snapshot, layout and render at 100x30.
    let started = Date()
    let session = try ConsoleSession(options: ConsoleOptions(projectName: "bench"), catalogPath: catalogURL.path,
                                     loader: { try SnapshotSource.load(from: catalog, $0) }, runner: nil, environment: [:])
    let backend = TestBackend(width: 100, height: 30)
    session.send(.resize(width: 100, height: 30), backend: backend)
    session.send(.snapshotLoaded(try SnapshotSource.load(from: catalog, SnapshotRequest())), backend: backend)
    var buffer = ScreenBuffer(width: 100, height: 30)
    ConsoleApp.render(session.state, into: &buffer)
    backend.draw(buffer)
    let firstFrameInProcess = Date().timeIntervalSince(started) * 1000
    let startup = measure(steward, ["tui", "--help"])
    // Key to frame: update, render and diff for a cycle of pane switches and moves.
    let keys: [Key] = [.char("2"), .char("3"), .char("1"), .char("j"), .char("j"), .char("k")]
    var keySamples: [Double] = []
    for i in 0..<300 {
        let t = Date()
        session.send(.key(keys[i % keys.count]), backend: backend)
        ConsoleApp.render(session.state, into: &buffer)
        backend.draw(buffer)
        keySamples.append(Date().timeIntervalSince(t) * 1000)
    }
    keySamples.sort()
    var result: [String: Any] = [
        "refresh": refresh, "first_frame_in_process_ms": firstFrameInProcess,
        "process_start_ms": startup.seconds * 1000, "first_frame_ms": firstFrameInProcess + startup.seconds * 1000,
        "key_to_frame_p50_ms": keySamples[keySamples.count / 2], "key_to_frame_p99_ms": keySamples[keySamples.count * 99 / 100],
    ]
    if let tmux = which("tmux"), FileManager.default.isExecutableFile(atPath: "/usr/bin/time") {
        let rssFile = NSTemporaryDirectory() + "steward-bench-console-rss"
        let socket = "steward-bench-\(getpid())"
        _ = measure(tmux, ["-L", socket, "new-session", "-d", "-x", "100", "-y", "30",
                           "/usr/bin/time -f %M -o \(rssFile) \(steward) tui --read-only --project \(project.path)"])
        Thread.sleep(forTimeInterval: 4)
        _ = measure(tmux, ["-L", socket, "send-keys", "2", "3", "1", "q"])
        Thread.sleep(forTimeInterval: 1.5)
        _ = measure(tmux, ["-L", socket, "kill-server"])
        if let text = try? String(contentsOfFile: rssFile, encoding: .utf8), let kb = Double(text.split(separator: "\n").last ?? "") {
            result["console_max_rss_mb"] = kb / 1024
        }
        try? FileManager.default.removeItem(atPath: rssFile)
    }
    return result
}

if mode == "roadmap" || mode == "all" {
    // A 10,000-task plan: 10 quarter phases × 10 sections × 100 tasks (every 10th with two subtasks).
    let tasks = option("--tasks", 10_000)
    var plan = "# Bench Roadmap\n\n## Timeline\n\n```\nQ1 2030: Start\n```\n\n"
    var n = 0, phase = 0
    while n < tasks {
        phase += 1
        plan += "## Phase \(phase): Work (Q\((phase - 1) % 4 + 1) \(2030 + (phase - 1) / 4))\n\n"
        for month in 1...10 where n < tasks {
            plan += "### Month \(month): Part \(month)\n"
            for i in 0..<100 where n < tasks {
                plan += "- [\(i % 3 == 0 ? "x" : " ")] Task **\(n)** of _phase_ \(phase), with `code` and text  \n"
                n += 1
                if i % 10 == 0 && n + 2 <= tasks {
                    plan += "  - [ ] Subtask \(n) a\n  - [x] Subtask \(n) b\n"
                    n += 2
                }
            }
            plan += "\n"
        }
        plan += "**Deliverables:**\n- Something\n\n"
    }
    let url = work.appendingPathComponent("roadmap.md")
    try plan.write(to: url, atomically: true, encoding: .utf8)
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    // CPU time of this thread as well as wall time: on a shared machine the wall clock also counts waiting.
    func cpuMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
    }
    var parse: [Double] = [], parseCPU: [Double] = []
    var doc = RoadmapDocument(bytes: [])
    for _ in 0..<7 {
        let start = Date(), cpu = cpuMs()
        doc = try RoadmapDocument(contentsOf: url)
        parse.append(Date().timeIntervalSince(start) * 1000)
        parseCPU.append(cpuMs() - cpu)
    }
    // Write-back: tick then untick one task deep in the file (re-read check, one byte, atomic write, re-parse).
    var file = try RoadmapFile(url: url)
    let target = file.document.tasks[file.document.tasks.count * 3 / 4].id
    var write: [Double] = [], writeCPU: [Double] = []
    for i in 0..<8 {
        let start = Date(), cpu = cpuMs()
        _ = try file.set(target, to: i % 2 == 0 ? .done : .open)
        write.append(Date().timeIntervalSince(start) * 1000)
        writeCPU.append(cpuMs() - cpu)
    }
    let roundTrip = try Data(contentsOf: url) == Data(plan.utf8)
    let pStart = Date()
    let progress = RoadmapProgress(doc)
    let progressMs = Date().timeIntervalSince(pStart) * 1000
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? ""
    var roadmapResult: [String: Any] = ["tasks": doc.tasks.count, "file_kb": Double(plan.utf8.count) / 1024, "goal_ms": 50]
    roadmapResult["parse_ms_median"] = median(parse)
    roadmapResult["parse_cpu_ms_median"] = median(parseCPU)
    roadmapResult["write_back_ms_median"] = median(write)
    roadmapResult["write_back_cpu_ms_median"] = median(writeCPU)
    roadmapResult["progress_ms"] = progressMs
    roadmapResult["phases"] = progress.phases.count
    roadmapResult["round_trip_identical"] = roundTrip
    roadmapResult["load_average"] = load
    result["roadmap"] = roadmapResult
}

if mode == "identity" || mode == "all" {
    result["identity"] = try measureIdentity(customers: mode == "identity" ? option("--customers", 5_000) : option("--identity-customers", 5_000))
}

// audiences --customers N: materialising five audiences and their diffs (AudienceBench.swift).
if mode == "audiences" {
    result["audiences"] = try measureAudiences(customers: option("--customers", 1_000_000), in: work.appendingPathComponent("audiences"))
}

// sync --changes N [--batch-size B]: a mirror destination synced through a loopback webhook (SyncBench.swift).
if mode == "sync" {
    result["sync"] = try measureSync(changes: option("--changes", 100_000), batchSize: option("--batch-size", 1_000),
                                     in: work.appendingPathComponent("sync"))
}

if mode == "lookup" {
    guard let i = args.firstIndex(of: "--project"), i + 1 < args.count else { fatalError("lookup needs --project DIR (a matched project)") }
    // The project is the user's, and so is its vault key: without it every sampled email and phone is `[sealed]`.
    if originalConfigHome.isEmpty { unsetenv("XDG_CONFIG_HOME") } else { setenv("XDG_CONFIG_HOME", originalConfigHome, 1) }
    let config = try ConfigLoader.load(URL(fileURLWithPath: args[i + 1]).appendingPathComponent("steward.yml"))
    let catalog = try Catalog.open(at: config.catalogURL)
    let records = try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM staged_person WHERE is_deleted = 0") ?? 0 }
    result["lookup"] = args.contains("--serve-mix") ? try measureServeMixSearches(catalog) : try measureLookups(catalog, records: records)
}

// match --suite [--seed N] [--scale X] [--families 1,2,3,4,5]: the generated, labelled families (MatchSuite.swift).
if mode == "match", args.contains("--suite") {
    let suite = MatchSuite(seed: UInt64(option("--seed", 42)), scale: stringOption("--scale").flatMap(Double.init) ?? 1.0)
    let families = (stringOption("--families") ?? "1,2,3,4,5").split(separator: ",").compactMap { Int($0) }
    let scored = try families.map { try suite.run(family: $0, steward: steward, work: work) }
    result["match_suite"] = scored
    result["match_suite_table"] = MatchSuite.table(scored)
}

// serve --project DIR: steward serve under HTTP load, searches and pushed events (ServeBench.swift).
if mode == "serve" {
    guard let i = args.firstIndex(of: "--project"), i + 1 < args.count else { fatalError("serve needs --project DIR (a matched project)") }
    result["serve"] = try measureServe(project: URL(fileURLWithPath: args[i + 1]), steward: steward)
}

// console --project DIR [--repeat N]: the console on an existing project, read-only (ConsoleBench.swift).
if mode == "console" {
    guard let i = args.firstIndex(of: "--project"), i + 1 < args.count else { fatalError("console needs --project DIR (a matched project)") }
    result["console"] = try measureConsoleProject(URL(fileURLWithPath: args[i + 1]), steward: steward, repeats: option("--repeat", 9))
}

if mode == "matcher" {
    guard let i = args.firstIndex(of: "--project"), i + 1 < args.count else { fatalError("matcher needs --project DIR (a loaded demo)") }
    result["matcher"] = try measureMatcher(project: URL(fileURLWithPath: args[i + 1]))
}

/// FNV-1a over everything a matching pass hands on (model, edges with their probabilities' bits,
/// refused edges, cluster labels, junk values): equal hashes mean a speed change kept the output.
func matchOutputHash(_ r: MatchResult) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    func mix(_ x: UInt64) { for k in 0..<8 { h = (h ^ ((x >> (8 * UInt64(k))) & 0xFF)) &* 0x100_0000_01B3 } }
    mix(r.model.lambda.bitPattern)
    for row in r.model.m + r.model.u { for x in row { mix(x.bitPattern) } }
    mix(UInt64(r.candidatePairs))
    for n in r.pairsPerRule { mix(UInt64(n)) }
    for e in r.edges + [Clusterer.Edge(a: -1, b: -1, probability: 0)] + r.refused {
        mix(UInt64(UInt32(bitPattern: e.a)) << 32 | UInt64(UInt32(bitPattern: e.b)))
        mix(e.probability.bitPattern)
    }
    for l in r.labels { mix(UInt64(UInt32(bitPattern: l))) }
    for (j, n) in r.junk { for c in j.value { mix(UInt64(c)) }; mix(UInt64(j.field.rawValue) << 32 | UInt64(n)) }
    return h
}

/// The matcher alone, in this process, on the staged person records of an already loaded project
/// (`steward init --demo` + `steward run --load-only`): blocking, scoring and clustering timings,
/// candidate pairs, blocking recall (true pairs among the candidates) and cluster F1 against
/// truth.csv. Writes nothing; for iterating on matching without the catalog writes.
func measureMatcher(project: URL) throws -> [String: Any] {
    var config = try ConfigLoader.load(project.appendingPathComponent("steward.yml"))
    let catalog = try Catalog.open(at: config.catalogURL)
    // Settings to try without editing steward.yml: --set max_block_size=8 --set block_window=2 …
    for (k, a) in args.enumerated() where a == "--set" && k + 1 < args.count {
        let kv = args[k + 1].split(separator: "=", maxSplits: 1).map(String.init)
        if kv.count == 2, let v = Double(kv[1]) { _ = config.matching.setTuning(kv[0], to: v) }
    }
    let settings = try IdentityEngine.settings(config)
    let nicknames = IdentityEngine.nicknames
    func cpuNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    let loadStart = Date(), loadCPUStart = cpuNow()
    let records = try catalog.pool.read { try PersonRecord.loadAll($0, nicknames: nicknames) }
    let loadSeconds = Date().timeIntervalSince(loadStart), loadCPU = cpuNow() - loadCPUStart
    let start = Date()
    let r = Matcher(settings: settings, nicknames: nicknames).run(records)
    let seconds = Date().timeIntervalSince(start)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    var out: [String: Any] = [
        "records": records.count, "candidate_pairs": r.candidatePairs, "clusters": r.clusterCount,
        "pairs_per_record": Double(r.candidatePairs) / Double(max(records.count, 1)),
        "pairs_per_rule": Dictionary(uniqueKeysWithValues: zip(settings.rules.map(\.description), r.pairsPerRule)),
        "load_seconds": loadSeconds, "load_cpu_seconds": loadCPU, "match_seconds": seconds, "stages": r.seconds,
        "max_rss_mb": Double(usage.ru_maxrss) / 1024, "edges": r.edges.count,
        "lambda": r.model.lambda, "candidate_lambda": r.model.candidateLambda,
        "max_block_size": settings.maxBlockSize, "block_window": settings.blockWindow,
        "stages_cpu": r.cpuSeconds, "output_hash": String(matchOutputHash(r), radix: 16),
    ]
    if let truthURL = config.truth {
        let truth = try PairwiseScore.loadTruth(truthURL)
        var clusters: [String: String] = [:]
        for (k, rec) in records.enumerated() { clusters[rec.id] = String(r.labels[k]) }
        let s = PairwiseScore.evaluate(clusters: clusters, truth: truth)
        out["cluster_pairwise"] = ["precision": s.precision, "recall": s.recall, "f1": s.f1]
        // Blocking recall: true pairs (same entity) that are candidate pairs.
        var byEntity: [String: [Int32]] = [:]
        for (k, rec) in records.enumerated() { if let e = truth[rec.id] { byEntity[e, default: []].append(Int32(k)) } }
        let candidates = Set(CandidatePairs.generate(records, rules: settings.rules, junk: Set(r.junk.map(\.0)),
                                                     maxBlockSize: settings.maxBlockSize, window: settings.blockWindow).pairs)
        var truePairs = 0, blocked = 0
        for members in byEntity.values where members.count > 1 {
            for x in 0..<members.count {
                for y in (x + 1)..<members.count {
                    truePairs += 1
                    if candidates.contains(Clusterer.pairKey(members[x], members[y])) { blocked += 1 }
                }
            }
        }
        out["blocking_recall"] = truePairs == 0 ? 1 : Double(blocked) / Double(truePairs)
        out["true_pairs"] = truePairs
        // Per rule: the true pairs only that rule blocks, and how many of those end in one customer.
        let perRule = settings.rules.map { Set(CandidatePairs.generate(records, rules: [$0], junk: Set(r.junk.map(\.0)),
                                                                    maxBlockSize: settings.maxBlockSize, window: settings.blockWindow).pairs) }
        var only = [Int](repeating: 0, count: perRule.count), onlyMatched = only
        let diagOnly = ProcessInfo.processInfo.environment["STEWARD_BENCH_DIAG"] != nil
        let diagComparator = Comparator(nicknames: nicknames, junk: Set(r.junk.map(\.0)))
        var onlyName: [String: Int] = [:]
        defer {
            if diagOnly {
                print("true pairs only the name rule blocks:")
                for (k, n) in onlyName.sorted(by: { $0.value > $1.value }).prefix(30) { print("  \(k) \(n)") }
            }
        }
        for members in byEntity.values where members.count > 1 {
            for x in 0..<members.count {
                for y in (x + 1)..<members.count {
                    let key = Clusterer.pairKey(members[x], members[y])
                    let hits = perRule.indices.filter { perRule[$0].contains(key) }
                    if hits.count == 1 {
                        if diagOnly, settings.rules[hits[0]].keys == [.firstCanonical, .lastPhonetic] {
                            let v = diagComparator.compare(records[Int(members[x])], records[Int(members[y])])
                            let k = v.levels.map { $0 < 0 ? "-" : String($0) }.joined()
                                + (r.labels[Int(members[x])] == r.labels[Int(members[y])] ? " matched" : "")
                            onlyName[k, default: 0] += 1
                        }
                        only[hits[0]] += 1
                        if r.labels[Int(members[x])] == r.labels[Int(members[y])] { onlyMatched[hits[0]] += 1 }
                    }
                }
            }
        }
        if ProcessInfo.processInfo.environment["STEWARD_BENCH_DIAG"] != nil {
            let comparator = Comparator(nicknames: nicknames, junk: Set(r.junk.map(\.0)))
            let scorer = Scorer(model: r.model, comparator: comparator, frequencies: TermFrequencies(records))
            func pattern(_ i: Int, _ j: Int) -> String {
                let v = comparator.compare(records[i], records[j])
                return v.levels.map { $0 < 0 ? "-" : String($0) }.joined() + (v.swappedNames ? "s" : "")
            }
            var falseEdges: [String: (Int, Double)] = [:]
            for e in r.edges where r.labels[Int(e.a)] == r.labels[Int(e.b)] {
                let ta = truth[records[Int(e.a)].id], tb = truth[records[Int(e.b)].id]
                if ta != nil, ta != tb {
                    let k = pattern(Int(e.a), Int(e.b))
                    let old = falseEdges[k] ?? (0, 0)
                    falseEdges[k] = (old.0 + 1, old.1 + e.probability)
                }
            }
            print("false matched edges by pattern (first last email phone dob address nid):")
            for (k, v) in falseEdges.sorted(by: { $0.value.0 > $1.value.0 }).prefix(25) {
                print("  \(k) \(v.0) mean p \(String(format: "%.3f", v.1 / Double(v.0)))")
            }
            var missed: [String: (Int, Double)] = [:]
            for members in byEntity.values where members.count > 1 {
                for x in 0..<members.count {
                    for y in (x + 1)..<members.count where r.labels[Int(members[x])] != r.labels[Int(members[y])] {
                        let i = Int(members[x]), j = Int(members[y])
                        let k = pattern(i, j) + (candidates.contains(Clusterer.pairKey(members[x], members[y])) ? "" : " (not blocked)")
                        let p = scorer.score(records[i], records[j]).probability
                        let old = missed[k] ?? (0, 0)
                        missed[k] = (old.0 + 1, old.1 + p)
                    }
                }
            }
            print("missed true pairs by pattern:")
            for (k, v) in missed.sorted(by: { $0.value.0 > $1.value.0 }).prefix(25) {
                print("  \(k) \(v.0) mean p \(String(format: "%.3f", v.1 / Double(v.0)))")
            }
        }
        out["true_pairs_only_this_rule"] = Dictionary(uniqueKeysWithValues: settings.rules.indices.map {
            (settings.rules[$0].description, "\(only[$0]) (\(onlyMatched[$0]) in one customer)")
        })
    }
    return out
}

/// Identity resolution on the demo of N people: the load, then the matching pass (with golden
/// records, SCD2 and the lookup index) as separate `steward` processes for wall time and peak RSS;
/// cluster-level pairwise F1 against truth.csv; lookup latency over 1,000 mixed queries typed the
/// way a support agent would (misspelt names, emails, phones in another format, postcodes, ids).
func measureIdentity(customers: Int) throws -> [String: Any] {
    let project = work.appendingPathComponent("identity")
    _ = try DemoGenerator(customers: customers, seed: 42).write(to: project)
    try applyVault(project)
    let load = measure(steward, ["run", "--project", project.path, "--load-only"])
    let match = measure(steward, ["run", "--project", project.path])
    let config = try ConfigLoader.load(project.appendingPathComponent("steward.yml"))
    let catalog = try Catalog.open(at: config.catalogURL)
    let report = try catalog.pool.read { try MatchReport.load($0, truth: config.truth) }
    var out: [String: Any] = [
        "customers": customers, "records": report.records, "candidate_pairs": report.candidatePairs, "clusters": report.clusters,
        "load_seconds": load.seconds, "load_max_rss_mb": load.maxRSSMB,
        "match_run_seconds": match.seconds, "match_run_max_rss_mb": match.maxRSSMB, "exit_status": [load.status, match.status],
        "load_cpu_seconds": load.cpuSeconds, "match_run_cpu_seconds": match.cpuSeconds,
        "whole_run_seconds": load.seconds + match.seconds,
    ]
    if let t = report.truth { out["cluster_pairwise"] = ["precision": t.precision, "recall": t.recall, "f1": t.f1] }
    // The goal's "matching end to end" as the pass itself timed it (staged records in → customers
    // written), the identity pass as a whole, and the facts pass that follows it in the same run.
    out["matching_step"] = report.pass
    if let facts = try catalog.pool.read({ try String.fetchOne($0, sql: "SELECT detail_json FROM customer_facts_run ORDER BY run_id DESC LIMIT 1") }),
       let detail = try JSONSerialization.jsonObject(with: Data(facts.utf8)) as? [String: Any],
       let seconds = detail["seconds"] as? [String: Double] {
        out["facts_seconds"] = seconds.values.reduce(0, +)
    }
    out["lookup"] = try measureLookups(catalog, records: report.records)
    out["load_average"] = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? ""
    return out
}

/// 1,000 lookups typed the way a support agent would, from an even sample of the staged person
/// records (each kind in turn): latency p50/p99 (wall and CPU) and how often the record's customer
/// is in the top 10. Also alone: `steward-bench lookup --project DIR` on a matched project.
func measureLookups(_ catalog: Catalog, records: Int) throws -> [String: Any] {
    let samples = try catalog.pool.read { db in
        try Row.fetchAll(db, sql: """
            SELECT p.first_name, p.last_name, vault_open(p.email), vault_open(p.phone), p.postcode, p.record_key, m.customer_id
            FROM staged_person p JOIN identity_member m ON m.source = p.source AND m.record_key = p.record_key
            WHERE p.is_deleted = 0 AND p.rowid % ? = 0 LIMIT 2000
            """, arguments: [max(1, records / 2000)])
    }
    func misspelt(_ s: String) -> String {
        var c = Array(s)
        if c.count > 3 { c.swapAt(c.count / 2, c.count / 2 + 1) }
        return String(c)
    }
    func otherPhoneFormat(_ e164: String) -> String {
        let d = Array(e164.filter(\.isNumber).suffix(10))
        guard d.count == 10 else { return e164 }
        return "(\(String(d[0..<3]))) \(String(d[3..<6]))-\(String(d[6...]))"
    }
    var latencies: [Double] = [], found = 0, asked = 0
    // On a busy machine wall time also counts waiting for a core: report CPU time as well.
    var cpu: [Double] = []
    var kinds: [String: Int] = [:], byKind: [String: [Double]] = [:], foundByKind: [String: Int] = [:]
    var slowest: [(String, Double)] = []
    // The misspelt names' customers and their names as spelt: asked again after the timed lookups.
    var speltRight: [(query: String, customer: String)] = []
    for (i, r) in samples.enumerated() where asked < 1000 {
        let first: String? = r[0], last: String? = r[1], email: String? = r[2], phone: String? = r[3], postcode: String? = r[4]
        let query: String?, kind: String
        switch i % 5 {
        case 0: (query, kind) = (first.flatMap { f in last.map { "\(f) \(misspelt($0))" } }, "misspelt_name")
        case 1: (query, kind) = (email, "email")
        case 2: (query, kind) = (phone.map(otherPhoneFormat), "phone_other_format")
        case 3: (query, kind) = (postcode.flatMap { p in last.map { "\($0) \(p)" } }, "name_postcode")
        default: (query, kind) = (r[5] as String, "record_id")
        }
        guard let query, !query.isEmpty else { continue }
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUms()
        let hits = try catalog.pool.read { try CustomerSearch.search($0, query: query, limit: 10) }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
        cpu.append(processCPUms() - cpuStart)
        latencies.append(ms)
        slowest.append((query, ms))
        byKind[kind, default: []].append(ms)
        asked += 1
        kinds[kind, default: 0] += 1
        if hits.contains(where: { $0.customerId == (r[6] as String) }) { found += 1; foundByKind[kind, default: 0] += 1 }
        if kind == "misspelt_name", let first, let last { speltRight.append(("\(first) \(last)", r[6])) }
    }
    // What the misspelt names could find at best: the same people spelt right. A common name has
    // more namesakes than the top 10 holds, and they tie (lowest customer numbers first).
    var speltRightFound = 0
    for (query, customer) in speltRight {
        let hits = try catalog.pool.read { try CustomerSearch.search($0, query: query, limit: 10) }
        if hits.contains(where: { $0.customerId == customer }) { speltRightFound += 1 }
    }
    func pct(_ xs: [Double], _ p: Double) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * p))]
    }
    var perKind: [String: Any] = [:]
    for (kind, xs) in byKind {
        perKind[kind] = ["queries": xs.count, "p50_ms": pct(xs, 0.5), "p99_ms": pct(xs, 0.99),
                         "expected_customer_in_top10": Double(foundByKind[kind] ?? 0) / Double(xs.count)]
    }
    if ProcessInfo.processInfo.environment["STEWARD_BENCH_SLOW"] != nil {
        for (q, ms) in slowest.sorted(by: { $0.1 > $1.1 }).prefix(20) { FileHandle.standardError.write(Data(String(format: "%8.2f ms  %@\n", ms, q).utf8)) }
    }
    if !speltRight.isEmpty {
        perKind["misspelt_name_spelt_right"] = ["queries": speltRight.count, "expected_customer_in_top10": Double(speltRightFound) / Double(speltRight.count)]
    }
    return ["queries": asked, "by_kind": perKind, "p50_ms": pct(latencies, 0.5), "p99_ms": pct(latencies, 0.99),
            "max_ms": latencies.max() ?? 0, "cpu_p50_ms": pct(cpu, 0.5), "cpu_p99_ms": pct(cpu, 0.99), "expected_customer_in_top10": asked == 0 ? 0 : Double(found) / Double(asked)]
}

/// `lookup --project DIR --serve-mix`: the serve bench's query mix (`serveQueryMix`: common full names,
/// a common last name with a postcode, first names alone) searched in this process, without the
/// server's response cache: what each uncached search costs, by kind. Two passes: the first finds the
/// catalog's pages cold (as a server's first requests do), the second warm.
func measureServeMixSearches(_ catalog: Catalog) throws -> [String: Any] {
    let queries = try serveQueryMix(catalog)
    func pct(_ xs: [Double], _ p: Double) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * p))]
    }
    var passes: [[String: Any]] = []
    for pass in ["cold", "warm"] {
        var wall: [String: [Double]] = [:], cpu: [String: [Double]] = [:]
        for q in queries {
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUms()
            _ = try catalog.pool.read { try CustomerSearch.search($0, query: q.text, limit: 20) }
            wall[q.kind, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
            cpu[q.kind, default: []].append(processCPUms() - cpuStart)
        }
        var kinds: [String: Any] = [:]
        for (kind, xs) in wall {
            let c = cpu[kind] ?? []
            let mean: Double = xs.reduce(0, +) / Double(xs.count), cpuMean: Double = c.reduce(0, +) / Double(max(1, c.count))
            kinds[kind] = ["queries": xs.count, "p50_ms": pct(xs, 0.5), "p99_ms": pct(xs, 0.99), "mean_ms": mean, "cpu_mean_ms": cpuMean] as [String: Any]
        }
        let all: [Double] = wall.values.flatMap { $0 }, allCPU: [Double] = cpu.values.flatMap { $0 }
        let mean: Double = all.reduce(0, +) / Double(max(1, all.count)), cpuMean: Double = allCPU.reduce(0, +) / Double(max(1, allCPU.count))
        passes.append(["pass": pass, "by_kind": kinds, "mean_ms": mean, "cpu_mean_ms": cpuMean, "p99_ms": pct(all, 0.99)] as [String: Any])
    }
    return ["serve_mix": passes]
}

/// CPU time of the whole process in ms: lookups run on GRDB's reader queue, and this bench does
/// nothing else meanwhile.
func processCPUms() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
}

func csvLine(_ fields: [String]) -> String {
    fields.map { f in
        f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
    }.joined(separator: ",")
}

let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: data, as: UTF8.self))
