import Foundation
import StewardCatalog

/// Where the parts of the screen go: header, tab bar, pane body, status line, footer.
public struct ScreenLayout {
    public var header: Rect, tabs: Rect, body: Rect, status: Rect, footer: Rect

    public init(width: Int, height: Int) {
        let rows = Layout.rows(Rect(x: 0, y: 0, width: width, height: height), [.fixed(1), .fixed(1), .fill(), .fixed(1), .fixed(1)])
        header = rows[0]; tabs = rows[1]; body = rows[2]; status = rows[3]; footer = rows[4]
    }
}

extension ConsoleApp {
    /// Draws the whole screen for `state`. Pure: the same state always gives the same cells.
    public static func render(_ state: AppState, into buffer: inout ScreenBuffer) {
        let theme = state.theme
        buffer.clear(style: theme.text)
        if state.isTooSmall {
            renderTooSmall(state, into: &buffer)
            fillDefaults(theme.text, &buffer)
            return
        }
        let layout = ScreenLayout(width: state.width, height: state.height)
        renderHeader(state, layout.header, into: &buffer)
        Tabs(titles: PaneID.allCases.map(\.title), selected: state.pane.rawValue, theme: theme).render(layout.tabs, into: &buffer)
        renderTabBarInfo(state, layout.tabs, into: &buffer)
        renderBody(state, layout.body, into: &buffer)
        renderStatus(state, layout.status, into: &buffer)
        renderFooter(state, layout.footer, into: &buffer)
        switch state.mode {
        case .help: renderHelp(state, area: buffer.area, into: &buffer)
        case .confirmQuit: renderConfirmQuit(state, area: buffer.area, into: &buffer)
        case .row: renderRowDetail(state, area: layout.body, into: &buffer)
        default: break
        }
        fillDefaults(theme.text, &buffer)
    }

    /// Themes with their own background (light) paint it under every cell that did not choose one.
    static func fillDefaults(_ base: Style, _ buffer: inout ScreenBuffer) {
        guard base.bg != .default || base.fg != .default else { return }
        for y in 0..<buffer.height {
            for x in 0..<buffer.width {
                var cell = buffer[x, y]
                if cell.style.bg == .default { cell.style.bg = base.bg }
                if cell.style.fg == .default { cell.style.fg = base.fg }
                buffer[x, y] = cell
            }
        }
    }

    static func renderTooSmall(_ state: AppState, into buffer: inout ScreenBuffer) {
        let need = AppState.minimumSize
        let lines = ["Terminal too small", "need \(need.width)x\(need.height), have \(state.width)x\(state.height)",
                     "Enlarge the window, or press q to quit."]
        let top = max(0, (state.height - lines.count) / 2)
        for (i, line) in lines.enumerated() {
            let text = line.truncated(to: state.width)
            buffer.write(text, x: max(0, (state.width - text.displayWidth) / 2), y: top + i,
                         style: i == 0 ? state.theme.error : state.theme.text)
        }
    }

    static func renderHeader(_ state: AppState, _ area: Rect, into buffer: inout ScreenBuffer) {
        let theme = state.theme
        buffer.fill(area, style: theme.header)
        let clock = " " + Format.clock(state.now) + " "
        var right: Line = []
        var gauge: (ratio: Double, label: String)?
        if let run = state.run {
            let rate = run.rowsPerSecond
            let what = run.last?.source.map { " \($0)" } ?? ""
            right = [Span("● running\(what) ", theme.headerAccent)]
            gauge = (run.last?.fraction ?? 0, "\(Format.count(Int(rate))) rows/s")
        } else if let last = state.snapshot?.runs.first {
            right = [Span("last run #\(last.id) ", theme.header), Span(Format.status(last.status, theme: theme).text, theme.header.patched(theme.status(last.status)).patched(Style(bg: theme.header.bg))),
                     Span(" \(Format.age(last.finishedAt ?? last.startedAt, now: state.now)) ", theme.header)]
        } else if state.snapshot != nil {
            right = [Span("no runs yet ", theme.header)]
        }
        let gaugeWidth = gauge == nil ? 0 : 30
        // The verdict's word and the start of its top problem (what is wrong) outrank the last run:
        // when both do not fit, the last run goes (the Runs pane has it).
        let verdictLine = verdict(state)
        let essential = 11 + state.projectName.displayWidth + (state.readOnly ? 12 : 0) + 1 + (verdictLine.first?.text.displayWidth ?? 0)
            + (Verdict.topProblem(state.snapshot?.health) == nil ? 0 : min(36, Array(verdictLine.dropFirst()).displayWidth))
        if area.width - right.displayWidth - gaugeWidth - clock.displayWidth - 1 < essential, state.run == nil { right = [] }
        // `steward serve` on this catalog outranks the last run (the Runs pane has that), never the verdict.
        let api = apiLine(state)
        if !api.isEmpty {
            let room = area.width - gaugeWidth - clock.displayWidth - 1 - essential
            if api.displayWidth + right.displayWidth > room, state.run == nil { right = [] }
            if api.displayWidth + right.displayWidth <= room { right = api + right }
        }
        let rightWidth = right.displayWidth + gaugeWidth + clock.displayWidth
        // The verdict comes right after the project's name: at any width it is the first thing read.
        let left: Line = [Span(" ◆ steward ", theme.headerAccent), Span(state.projectName, theme.header.with(.bold))]
            + (state.readOnly ? [Span(" [read-only]", theme.headerAccent)] : []) + [Span(" ", theme.header)] + verdictLine
        let leftWidth = max(0, area.width - rightWidth - 1)
        buffer.write(truncate(left, to: leftWidth), x: area.x, y: area.y, maxWidth: leftWidth, base: theme.header)
        var x = area.maxX - rightWidth
        x += buffer.write(right, x: x, y: area.y, maxWidth: right.displayWidth, base: theme.header)
        if let gauge {
            Gauge(ratio: gauge.ratio, label: gauge.label, filled: theme.header.patched(theme.gaugeFilled).patched(Style(bg: theme.header.bg)),
                  empty: theme.header.patched(theme.gaugeEmpty).patched(Style(bg: theme.header.bg)), text: theme.header)
                .render(Rect(x: x, y: area.y, width: gaugeWidth, height: 1), into: &buffer)
            x += gaugeWidth
        }
        buffer.write(clock, x: x, y: area.y, style: theme.headerAccent)
    }

    /// `⇄ API 127.0.0.1:8750 · 12 req/min` while `steward serve` answers on this catalog (`ServePresence`).
    static func apiLine(_ state: AppState) -> Line {
        guard let server = state.snapshot?.server else { return [] }
        return [Span("⇄ API ", state.theme.headerAccent),
                Span("\(server.shortAddress) · \(Format.count(server.requestsLastMinute)) req/min  ", state.theme.header)]
    }

    /// `steward check`'s verdict and its top problem; UNKNOWN (and why) while the catalog cannot be read.
    static func verdict(_ state: AppState) -> Line {
        if state.snapshot == nil {
            guard state.catalogError != nil else { return [] }
            return Verdict.line(nil, theme: state.theme, notEvaluated: "the catalog cannot be read")
        }
        if state.snapshot?.verdictPending == true { return Verdict.checkingLine(theme: state.theme) }
        return Verdict.line(state.snapshot?.health, theme: state.theme, notEvaluated: "not evaluated: no steward.yml behind this console")
    }

    /// Right end of the tab bar: how fresh the data is.
    static func renderTabBarInfo(_ state: AppState, _ area: Rect, into buffer: inout ScreenBuffer) {
        guard let snap = state.snapshot else { return }
        let data = "data \(Format.age(snap.loadedAt, now: state.now)) · every \(Format.duration(state.refreshInterval)) "
        let tabsWidth = Tabs.width(PaneID.allCases.map(\.title), width: area.width) + 1
        // The catalog's path (no longer in the header, which holds the verdict) when there is room.
        let withPath = "\(state.catalogPath) · " + data
        let text = area.width - tabsWidth > withPath.displayWidth + 2 ? withPath : data
        guard area.width - tabsWidth > text.displayWidth + 2 else { return }
        buffer.write(text, x: area.maxX - text.displayWidth, y: area.y, style: state.theme.muted)
    }

    static func renderBody(_ state: AppState, _ area: Rect, into buffer: inout ScreenBuffer) {
        let theme = state.theme
        if state.snapshot == nil {
            if let error = state.catalogError {
                renderCatalogError(state, error, area, into: &buffer)
            } else {
                Block(title: state.pane.title, style: theme.border, titleStyle: theme.title).render(area, into: &buffer)
                buffer.write("Reading the catalog…", x: area.x + 2, y: area.y + 1, style: theme.muted)
            }
            return
        }
        state.panes[id: state.pane].draw(area, state, into: &buffer)
    }

    static func renderCatalogError(_ state: AppState, _ error: String, _ area: Rect, into buffer: inout ScreenBuffer) {
        let theme = state.theme
        let inner = Block(title: [Span("✗ Catalog unavailable", theme.error)], style: theme.error, titleStyle: theme.error)
            .render(area, into: &buffer).inset(horizontal: 1, vertical: 1)
        var lines: [Line] = [[Span(error)], [], [Span("What to do", theme.title)]]
        if state.canRun && !state.readOnly {
            lines.append([Span("• press "), Span("r", theme.accent), Span(" to run the pipeline now: the console shows the catalog as soon as it exists")])
        }
        lines.append([Span("• or run "), Span("steward run", theme.accent), Span(" in another terminal; this screen retries every \(Format.duration(state.refreshInterval))")])
        lines.append([Span("• press "), Span("q", theme.accent), Span(" to quit")])
        TextBlock.render(lines, inner, base: theme.text, into: &buffer)
    }

    static func renderStatus(_ state: AppState, _ area: Rect, into buffer: inout ScreenBuffer) {
        let theme = state.theme
        switch state.mode {
        case .filter:
            state.input.render(prompt: "/", area, style: theme.input, into: &buffer)
            return
        case .note:
            state.input.render(prompt: "note: ", area, style: theme.input, into: &buffer)
            return
        case .command:
            if let c = state.completion {
                // Candidates replace the line while cycling; the input stays in the footer row.
                var line: Line = []
                for (i, candidate) in c.candidates.enumerated() {
                    let word = candidate.split(separator: " ").last.map(String.init) ?? candidate
                    line += [Span(i == c.index ? "[\(word)]" : " \(word) ", i == c.index ? theme.selected : theme.muted)]
                }
                buffer.write(line, x: area.x, y: area.y, maxWidth: area.width, base: theme.text)
                return
            }
            state.input.render(prompt: ":", area, style: theme.input, into: &buffer)
            return
        default:
            break
        }
        if let status = state.status {
            let style = status.isError ? theme.statusError : theme.statusInfo
            if status.isError { buffer.fill(area, style: style) }
            buffer.write(status.mark + status.text, x: area.x, y: area.y, style: style, maxWidth: area.width)
        } else if state.mode == .normal, let top = Verdict.topProblem(state.snapshot?.health) {
            // Nothing else to say: the worst problem, in words, so the first screen answers "what is wrong".
            buffer.write([Span(" \(Verdict.mark(top.severity)) worst: ", theme.status(top.severity == .breach ? "error" : "warn")),
                          Span("\(top.subject): ", theme.title), Span(top.message, theme.text)],
                         x: area.x, y: area.y, maxWidth: area.width, base: theme.text)
        }
    }

    static func renderFooter(_ state: AppState, _ area: Rect, into buffer: inout ScreenBuffer) {
        let theme = state.theme
        buffer.fill(area, style: theme.footer)
        if state.mode == .command, state.completion != nil {
            state.input.render(prompt: ":", area, style: theme.input, into: &buffer)
            return
        }
        var x = area.x + 1
        for hint in fittingHints(footerHints(state), width: area.width - 1) {
            x += buffer.write(hint.key, x: x, y: area.y, style: theme.footerKey)
            x += buffer.write(" \(hint.text)  ", x: x, y: area.y, style: theme.footer)
        }
    }

    /// The hints that fit in `width`, in order; the way out (`quit`) is never the one dropped.
    static func fittingHints(_ hints: [KeyHint], width: Int) -> [KeyHint] {
        func cost(_ h: KeyHint) -> Int { h.key.displayWidth + h.text.displayWidth + 3 }
        var budget = width - (hints.first { $0.text == "quit" }.map(cost) ?? 0)
        return hints.filter { hint in
            if hint.text == "quit" { return budget >= 0 }
            guard cost(hint) <= budget else { return false }
            budget -= cost(hint)
            return true
        }
    }

    /// The keys that matter in the current mode and pane, from the key map.
    static func footerHints(_ state: AppState) -> [KeyHint] {
        switch state.mode {
        case .filter: return [KeyHint(key: "Enter", text: "keep filter"), KeyHint(key: "Esc", text: "clear"), KeyHint(key: "↑↓", text: "move")]
        case .command: return [KeyHint(key: "Tab", text: "complete"), KeyHint(key: "Enter", text: "run"), KeyHint(key: "Esc", text: "cancel")]
        case .help: return [KeyHint(key: "↑↓", text: "scroll"), KeyHint(key: "Esc", text: "close")]
        case .confirmQuit: return [KeyHint(key: "y", text: "quit"), KeyHint(key: "n", text: "stay")]
        case .note: return [KeyHint(key: "Enter", text: "save note"), KeyHint(key: "Esc", text: "cancel")]
        case .row: return [KeyHint(key: "Esc", text: "close"), KeyHint(key: "v", text: state.rowDetail?.revealed == true ? "mask" : "reveal (audited)"),
                           KeyHint(key: "↑↓", text: "scroll")]
        case .search: return [KeyHint(key: "Enter", text: "open 360"), KeyHint(key: "↑↓", text: "move"), KeyHint(key: "Esc", text: "leave box"),
                              KeyHint(key: "Tab", text: "next pane")]
        case .normal: break
        }
        if state.isTooSmall { return [] }
        var short: [Action: String] = [.help: "help", .command: "cmd", .filter: "filter", .run: "run", .quit: "quit",
                                       .open: "open", .back: "back", .nextSection: "section", .sort: "sort", .copyID: "copy id",
                                       .toggleTask: "tick", .note: "note", .search: "search", .reveal: "reveal", .review: "review",
                                       .accept: "accept", .reject: "reject"]
        short.merge(state.pane.type.footerLabels) { _, own in own }
        let paneState = state.panes[id: state.pane]
        var hints: [KeyHint] = []
        // Without data (catalog missing or still loading) only running, help and quitting make sense.
        let withoutData: Set<Action> = [.run, .command, .help, .quit]
        for binding in state.keyMap.bindings(for: state.pane) where binding.inFooter && !binding.keys.isEmpty {
            if binding.action == .run && (state.readOnly || !state.canRun) { continue }
            if state.snapshot == nil && !withoutData.contains(binding.action) { continue }
            // What the pane refuses here (read-only writes, a decision with no pair selected) is not offered.
            if !paneState.offers(binding.action, state) { continue }
            hints.append(KeyHint(key: binding.keys[0].description, text: short[binding.action] ?? binding.action.rawValue))
        }
        // A pane may put its own keys first, so they fit at 80 columns.
        let order: [Action] = state.pane.type.footerOrder
            ?? [.help, .toggleTask, .note, .open, .back, .filter, .command, .run, .quit, .nextSection, .sort, .copyID]
        return hints.sorted { a, b in
            let ia = order.firstIndex { short[$0] == a.text } ?? 99, ib = order.firstIndex { short[$0] == b.text } ?? 99
            return ia < ib
        }
    }

    /// The lines of the `?` overlay: the key map's bindings for this pane, then the commands.
    public static func helpLines(_ state: AppState) -> [Line] {
        let theme = state.theme
        let bindings = state.keyMap.bindings(for: state.pane).filter { b in
            !b.keys.isEmpty && (b.action.paneIndex.map { $0 < PaneID.allCases.count } ?? true)
        }
        let width = max(12, bindings.map { $0.keyLabel.displayWidth }.max() ?? 0) + 2
        func row(_ b: KeyBinding) -> Line {
            var text = b.description
            if let i = b.action.paneIndex, let p = PaneID(rawValue: i) { text = "go to \(p.title)" }
            return [Span(b.keyLabel.padded(to: width), theme.accent), Span(text)]
        }
        var lines: [Line] = [[Span("Keys in \(state.pane.title)", theme.title)]]
        // The pane's own keys first: they are what `?` is pressed for.
        let paneSpecific = bindings.filter { $0.panes != nil }
        if !paneSpecific.isEmpty {
            lines += [[Span("\(state.pane.title) pane", theme.title)]] + paneSpecific.map(row)
            lines += state.pane.type.helpNotes(theme) + [[], [Span("Everywhere", theme.title)]]
        }
        lines += bindings.filter { $0.panes == nil }.map(row)
        lines += [[], [Span("Commands", theme.title)]]
        lines += ConsoleCommandLine.helpRows.map { [Span($0.usage.padded(to: 18), theme.accent), Span($0.help)] }
        lines += [[], [Span("Mouse", theme.title)], [Span("click".padded(to: width), theme.accent), Span("select a tab or a row (click again to open)")],
                  [Span("wheel".padded(to: width), theme.accent), Span("scroll")]]
        lines += [[], [Span("Rebind keys in steward.yml under keys: (e.g. run: ctrl-r)", theme.muted)]]
        if let snap = state.snapshot {
            lines += [[Span(String(format: "Last refresh read the catalog in %.1f ms", snap.loadMilliseconds), theme.muted)]]
        }
        return lines
    }

    static func renderHelp(_ state: AppState, area: Rect, into buffer: inout ScreenBuffer) {
        let width = min(78, area.width - 4)
        let lines = wrapHelp(helpLines(state), width: width - 2, keyStyle: state.theme.accent)
        let height = min(lines.count + 2, area.height - 2)
        let inner = Modal.render(title: "Help — \(state.pane.title)  (Esc closes)", width: width, height: height,
                                 in: area, theme: state.theme, into: &buffer)
        let scroll = min(state.helpScroll, max(0, lines.count - inner.height))
        for (i, line) in lines.dropFirst(scroll).prefix(inner.height).enumerated() {
            buffer.write(line, x: inner.x, y: inner.y + i, maxWidth: inner.width, base: state.theme.modal)
        }
        if lines.count > inner.height {
            buffer.write(scroll + inner.height < lines.count ? "↓ more" : "↑", x: inner.maxX - 6, y: inner.maxY, style: state.theme.modalBorder)
        }
    }

    /// Help lines wrapped to the modal's text width; a key's description continues under itself, so
    /// the key column stays clear (at 80 columns the longer descriptions were cut).
    static func wrapHelp(_ lines: [Line], width: Int, keyStyle: Style) -> [Line] {
        lines.flatMap { line -> [Line] in
            guard line.count == 2, line[0].style == keyStyle, line[0].text.displayWidth < width - 8 else { return TextBlock.wrap([line], width: width) }
            let indent = line[0].text.displayWidth
            let parts = TextBlock.wrap([[line[1]]], width: width - indent)
            return parts.enumerated().map { i, part in [i == 0 ? line[0] : Span(String(repeating: " ", count: indent))] + part }
        }
    }

    /// A quarantined row's detail over the pane: every reason, where it came from, its values.
    static func renderRowDetail(_ state: AppState, area: Rect, into buffer: inout ScreenBuffer) {
        guard let detail = state.rowDetail else { return }
        let lines = detail.lines(state.context.pii, theme: state.theme)
        let inner = Modal.render(title: "Quarantined row \(detail.row.id)  (Esc closes · v \(detail.revealed ? "masks" : "reveals"))",
                                 width: min(110, area.width - 2), height: area.height, in: area, theme: state.theme, into: &buffer)
        let total = TextBlock.wrap(lines, width: inner.width).count
        TextBlock.render(lines, inner, scroll: detail.scroll, base: state.theme.modal, into: &buffer)
        if total > inner.height {
            buffer.write(detail.scroll + inner.height < total ? "↓ more" : "↑", x: inner.maxX - 6, y: inner.maxY, style: state.theme.modalBorder)
        }
    }

    static func renderConfirmQuit(_ state: AppState, area: Rect, into buffer: inout ScreenBuffer) {
        let theme = state.theme
        let inner = Modal.render(title: "Quit?", width: 60, height: 7, in: area, theme: theme, into: &buffer)
        let percent = state.run?.last?.fraction.map { " (\(Int($0 * 100))%)" } ?? ""
        let lines: [Line] = [[Span("▲ A pipeline run is in progress\(percent).", theme.warn)],
                             [Span("Quitting stops it; committed batches stay in the catalog.")], [],
                             [Span("y", theme.accent), Span(" quit   "), Span("n", theme.accent), Span(" keep working")]]
        TextBlock.render(lines, inner, base: theme.modal, into: &buffer)
    }
}
