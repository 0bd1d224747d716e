import Foundation
import Testing
@testable import StewardRoadmap

/// Issue 21: the HTML status report looks right in a real browser. Headless Chromium (Debian's
/// `chromium`, installed by .ci/run) renders the demo's report to a PNG; the test decodes it and
/// checks it is not blank, keeps inside the page (nothing overflows the margins), shows the
/// report's colours, and that the rendered DOM holds the report's text.
@Suite(.serialized) struct PlanReportScreenshotTests {
    static let width = 1200, height = 1600

    static var chromium: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        return nil
    }

    @Test func demoReportRendersInHeadlessChromium() async throws {
        let browser = try #require(Self.chromium, "headless Chromium is needed: apt-get install chromium (.ci/run installs it)")
        let p = TempProject("report-shot")
        let dir = p.dir.appendingPathComponent("demo").path
        let html = p.dir.appendingPathComponent("report.html")
        let png = p.dir.appendingPathComponent("report.png")
        let (dom, image, text) = try await offPool { () -> (String, PNGImage, String) in
            let made = try StewardBinary.run(["init", dir, "--demo", "--customers", "300", "--seed", "42"])
            #expect(made.status == 0, "\(made.stderr)")
            let ran = try StewardBinary.run(["run", "--project", dir])
            #expect(ran.status == 0 || ran.status == 1, "\(ran.stderr)")   // 1: the demo's rows failing error checks
            let report = try StewardBinary.run(["roadmap", "report", "--format", "html", "--out", html.path, "--project", dir])
            #expect(report.status == 0, "\(report.stderr)")
            let text = try String(contentsOf: html, encoding: .utf8)
            let profile = p.dir.appendingPathComponent("chromium-profile").path
            let common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)"]
            let shot = try Self.exec(browser, common + ["--screenshot=\(png.path)", "--window-size=\(Self.width),\(Self.height)", html.absoluteString])
            #expect(shot.status == 0, "\(shot.stderr.suffix(2000))")
            let dom = try Self.exec(browser, common + ["--dump-dom", html.absoluteString])
            return (dom.stdout, try PNGImage(contentsOf: png), text)
        }

        // The text a PM reads is there once the browser has parsed and laid out the page.
        let total = RoadmapProgress(RoadmapDocument(text: try String(contentsOfFile: "\(dir)/roadmap.md", encoding: .utf8))).total
        for needle in ["acme-demo — status report", "Overall \(total.percent)% — \(total.done) of \(total.total) tasks done",
                       ">Progress</h2>", ">KPIs</h2>", ">Data quality</h2>", ">Budget vs actual</h2>", ">Stakeholder updates</h2>",
                       "Data Quality Issues", "Executive steering"] {
            #expect(dom.contains(needle), "rendered DOM lacks \(needle)")
        }

        // The screenshot: the size asked for, not blank, text anti-aliased into many colours.
        #expect(image.width == Self.width && image.height == Self.height)
        let white = PNGImage.RGB(255, 255, 255)
        let inked = image.count { $0 != white }
        let share = Double(inked) / Double(image.width * image.height)
        #expect(share > 0.03 && share < 0.6, "share of non-white pixels \(share)")
        #expect(image.distinctColours > 100, "\(image.distinctColours) colours")
        // The headings' blue, the table headers' tint; amber where a risk is amber.
        #expect(image.count { $0.near(PNGImage.RGB(0x2f, 0x6f, 0xdd)) } > 500, "no heading blue")
        #expect(image.count { $0 == PNGImage.RGB(0xee, 0xf3, 0xfb) } > 5_000, "no table header tint")
        if text.contains("class=\"amber") {
            #expect(image.count { $0.near(PNGImage.RGB(0xb7, 0x79, 0x1f), by: 40) } > 50, "amber risks not drawn amber")
        }
        Self.expectInsideMargins(image)
    }

    /// Red team: a pasted URL, a 200-letter word and emoji in every kind of cell wrap inside the page
    /// instead of widening it, and the short cells beside them keep their words whole.
    @Test func longUnbrokenTextStaysInsideThePage() async throws {
        let browser = try #require(Self.chromium, "headless Chromium is needed: apt-get install chromium (.ci/run installs it)")
        let long = "https://vendor.example.com/a/very/long/path/" + String(repeating: "x", count: 200)
        let text = """
        # Plan 🚀
        ## Phase 1: Build 🔨 (Q1 2024)
        - [x] One
        - [ ] Two \(long)

        **Deliverables:**
        - 📦 \(long)

        ## Risks
        1. **🔥 Data Quality Issues \(long)**
           - Owner: \(String(repeating: "Dana", count: 40))
        ## Budget
        - \(String(repeating: "Infrastructure", count: 20)): $200K/year
        """
        let doc = RoadmapDocument(text: text)
        let today = Day(year: 2024, month: 3, day: 10)
        let progress = RoadmapProgress(doc, today: today)
        let report = PlanReport(project: "acme", planTitle: doc.title, status: PlanStatus(document: doc, progress: progress, state: PlanState(), today: today),
                                progress: progress, facts: PlanFacts(), changes: [], since: nil)
        let p = TempProject("report-long")
        let html = p.write("report.html", report.html)
        let png = p.dir.appendingPathComponent("report.png")
        let profile = p.dir.appendingPathComponent("chromium-profile").path
        let image = try await offPool { () -> PNGImage in
            let shot = try Self.exec(browser, ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)",
                                               "--screenshot=\(png.path)", "--window-size=\(Self.width),\(Self.height)", html.absoluteString])
            #expect(shot.status == 0, "\(shot.stderr.suffix(2000))")
            return try PNGImage(contentsOf: png)
        }
        #expect(report.html.contains("<td>open</td>"), "a short cell gets no class that lets it break")
        Self.expectInsideMargins(image)
    }

    /// Nothing overflows the page: the outer 60 columns on either side stay white, top to bottom.
    static func expectInsideMargins(_ image: PNGImage, sourceLocation: SourceLocation = #_sourceLocation) {
        let white = PNGImage.RGB(255, 255, 255)
        for x in Array(0..<60) + Array((image.width - 60)..<image.width) {
            for y in stride(from: 0, to: image.height, by: 4) where image[x, y] != white {
                Issue.record("pixel \(x),\(y) is \(image[x, y]): content outside the page's column", sourceLocation: sourceLocation)
                return
            }
        }
    }

    @Test func pngDecoderReadsAKnownImage() throws {
        // A 2×2 RGB image written with filters None and Sub (made by Python's zlib), so the decoder
        // the screenshot test relies on is itself checked.
        let raw: [UInt8] = [0, 255, 0, 0, 0, 255, 0,
                            1, 0, 0, 255, 10, 20, 30]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("steward-png-\(UUID().uuidString.prefix(6)).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try PNGImage.write(width: 2, height: 2, filtered: raw, to: url)
        let image = try PNGImage(contentsOf: url)
        #expect(image[0, 0] == PNGImage.RGB(255, 0, 0))
        #expect(image[1, 0] == PNGImage.RGB(0, 255, 0))
        #expect(image[0, 1] == PNGImage.RGB(0, 0, 255))
        #expect(image[1, 1] == PNGImage.RGB(10, 20, 285 % 256))
        #expect(image.distinctColours == 4)
    }

    /// Runs a program with a time limit (a browser that hangs must not hang the suite).
    static func exec(_ program: String, _ args: [String], seconds: Int = 90) throws -> StewardBinary.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["\(seconds)", program] + args
        // stderr (Chromium is chatty) goes to a file, so neither pipe can fill up and stall it.
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("steward-chromium-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errFile) }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: errFile)
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let errData = (try? Data(contentsOf: errFile)) ?? Data()
        return StewardBinary.Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                                    stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A minimal PNG reader for 8-bit RGB/RGBA images (what Chromium writes): chunks parsed here, the
/// zlib stream inflated by python3's zlib (already a test dependency), the scanline filters undone here.
struct PNGImage {
    struct RGB: Equatable, Hashable, CustomStringConvertible {
        var r, g, b: UInt8
        init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
        init(_ r: Int, _ g: Int, _ b: Int) { self.init(UInt8(r), UInt8(g), UInt8(b)) }
        func near(_ o: RGB, by tolerance: Int = 24) -> Bool {
            abs(Int(r) - Int(o.r)) <= tolerance && abs(Int(g) - Int(o.g)) <= tolerance && abs(Int(b) - Int(o.b)) <= tolerance
        }
        var description: String { "rgb(\(r),\(g),\(b))" }
    }
    struct Malformed: Error, CustomStringConvertible { var description: String }

    let width: Int, height: Int
    private let pixels: [RGB]

    subscript(x: Int, y: Int) -> RGB { pixels[y * width + x] }
    func count(where match: (RGB) -> Bool) -> Int { pixels.reduce(0) { $0 + (match($1) ? 1 : 0) } }
    var distinctColours: Int { Set(pixels).count }

    init(contentsOf url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count > 8, bytes.prefix(8).elementsEqual([137, 80, 78, 71, 13, 10, 26, 10]) else { throw Malformed(description: "not a PNG") }
        func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var i = 8, w = 0, h = 0, channels = 0
        var idat: [UInt8] = []
        while i + 8 <= bytes.count {
            let length = be32(i), type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            guard i + 12 + length <= bytes.count else { throw Malformed(description: "truncated \(type) chunk") }
            let body = bytes[(i + 8)..<(i + 8 + length)]
            switch type {
            case "IHDR":
                w = be32(i + 8); h = be32(i + 12)
                let depth = body[body.startIndex + 8], colour = body[body.startIndex + 9], interlace = body[body.startIndex + 12]
                guard depth == 8, interlace == 0, colour == 2 || colour == 6 else {
                    throw Malformed(description: "unsupported PNG: depth \(depth), colour type \(colour), interlace \(interlace)")
                }
                channels = colour == 6 ? 4 : 3
            case "IDAT": idat += body
            default: break
            }
            i += 12 + length
        }
        guard w > 0, h > 0, channels > 0 else { throw Malformed(description: "no IHDR") }
        let data = try Self.inflate(idat)
        let stride = w * channels
        guard data.count == h * (stride + 1) else { throw Malformed(description: "\(data.count) bytes for \(w)x\(h)x\(channels)") }
        var out = [RGB]()
        out.reserveCapacity(w * h)
        var previous = [UInt8](repeating: 0, count: stride), row = [UInt8](repeating: 0, count: stride)
        for y in 0..<h {
            let base = y * (stride + 1), filter = data[base]
            for x in 0..<stride {
                let raw = data[base + 1 + x]
                let a = x >= channels ? Int(row[x - channels]) : 0, b = Int(previous[x]), c = x >= channels ? Int(previous[x - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Malformed(description: "row \(y): filter \(filter)")
                }
                row[x] = UInt8(truncatingIfNeeded: Int(raw) + predictor)
            }
            for x in 0..<w { out.append(RGB(row[x * channels], row[x * channels + 1], row[x * channels + 2])) }
            swap(&previous, &row)
        }
        width = w; height = h; pixels = out
    }

    static func inflate(_ compressed: [UInt8]) throws -> [UInt8] {
        try python(compressed, "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(open(sys.argv[1], 'rb').read()))")
    }

    /// Writes an RGB PNG from already filtered scanlines (for the decoder's own test).
    static func write(width: Int, height: Int, filtered: [UInt8], to url: URL) throws {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        let deflated = try python(filtered, "import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], 'rb').read()))")
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] { be32(body.count) + Array(type.utf8) + body + [0, 0, 0, 0] }
        let png: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10] + chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
            + chunk("IDAT", deflated) + chunk("IEND", [])
        try Data(png).write(to: url)
    }

    /// Runs a python3 one-liner over bytes given as a file (argv[1]); returns its stdout.
    private static func python(_ input: [UInt8], _ script: String) throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("steward-png-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(input).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, file.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Malformed(description: "python3 zlib failed (\(p.terminationStatus))") }
        return [UInt8](data)
    }
}
