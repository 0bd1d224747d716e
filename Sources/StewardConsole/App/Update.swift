import Foundation
import StewardRoadmap
import StewardCatalog

/// The pure heart of the console: `update` turns a message into a new state and commands,
/// `render` draws a state into a buffer. Neither touches the terminal, the clock or the catalog.
public enum ConsoleApp {
    public static func update(_ state: AppState, _ message: Message) -> (AppState, [Command]) {
        var s = state
        let commands = update(&s, message)
        return (s, commands)
    }

    /// `update` in place: the console loop applies a burst of keys (a paste) without copying and
    /// comparing the whole state once per key.
    public static func update(_ s: inout AppState, _ message: Message) -> [Command] {
        let commands = s.apply(message)
        for type in PaneRegistry.all { type.settle(&s) }
        return commands
    }
}

extension AppState {
    /// The body area the panes draw into (same function as the view uses).
    public var bodyArea: Rect { ScreenLayout(width: width, height: height).body }

    mutating func apply(_ message: Message) -> [Command] {
        switch message {
        case .key(let key):
            return handleKey(key)
        case .mouse(let event):
            return handleMouse(event)
        case .resize(let w, let h):
            width = w; height = h
            clampPanes()
            return []
        case .tick(let date):
            now = date
            if let st = status, !st.isError, date.timeIntervalSince(st.at) > 5 { status = nil }
            let last = lastLoadStarted ?? .distantPast
            if !loading, date.timeIntervalSince(last) >= refreshInterval { return requestSnapshot() }
            return []
        case .snapshotLoaded(let snap):
            loading = false
            // Whether a run finished since the last snapshot (here or in another process): panes that
            // read more than the snapshot read it again.
            let before = snapshot?.runs.first
            let ranSince = snapshot != nil && (before?.id != snap.runs.first?.id || before?.finishedAt != snap.runs.first?.finishedAt)
            snapshot = snap
            catalogError = nil
            clampPanes()
            // A snapshot without its verdict is followed at once by one with it.
            let verdict = snap.verdictPending ? requestSnapshot() : []
            return PaneRegistry.all.reduce(verdict + reloadIfPending()) { $0 + $1.snapshotArrived(&self, ranSince: ranSince) }
        case .snapshotFailed(let error):
            loading = false
            catalogError = error
            // A refresh failure never hides a more important error (such as a failed run).
            if snapshot != nil, status?.isError != true { status = StatusMessage(text: "refresh failed: \(error)", isError: true, at: now) }
            return reloadIfPending() + [.log("snapshot failed: \(error)")]
        case .runProgress(let event, let at):
            guard var r = run else { return [] }
            r.last = event; r.lastAt = at
            run = r
            // Batches commit as they go: panes catch up live.
            if event.phase == .batchCommitted || event.phase == .sourceFinished || event.phase == .started {
                return requestSnapshot()
            }
            return []
        case .runFinished(let outcome, let at):
            run = nil
            let id = outcome.runId.map { "run #\($0)" } ?? "run"
            let summary = "\(id) \(outcome.status): \(Format.count(outcome.rowsRead)) rows read, \(Format.count(outcome.rowsLoaded)) loaded, \(Format.count(outcome.rowsQuarantined)) quarantined"
            status = StatusMessage(text: summary + (outcome.message.map { " — \($0)" } ?? ""), isError: outcome.status == "failed", at: at,
                                   isWarning: outcome.status != "succeeded")
            return requestSnapshot() + [.log(summary)]
        case .runFailed(let error, let at):
            run = nil
            status = StatusMessage(text: "run failed: \(error)", isError: true, at: at)
            return requestSnapshot() + [.log("run failed: \(error)")]
        case .themeLoaded(let theme):
            self.theme = theme
            status = StatusMessage(text: "theme \(theme.name)", isError: false, at: now)
            return []
        case .themeFailed(let error):
            status = StatusMessage(text: error, isError: true, at: now)
            return []
        case .roadmapWritten(let text, let document):
            return roadmapWritten(text, document)
        case .roadmapWriteFailed(let error):
            return roadmapWriteFailed(error)
        case .customers(let reply):
            return applyCustomerReply(reply)
        case .rowRevealAudited(let id):
            guard rowDetail?.row.id == id else { return [] }
            rowDetail?.revealed = true
            status = StatusMessage(text: "values of quarantined row \(id) revealed — audited; v masks them again", isError: false, at: now)
            return []
        case .rowRevealFailed(let error):
            status = StatusMessage(text: "not revealed: \(error)", isError: true, at: now)
            return []
        }
    }

    // MARK: snapshot loading

    /// Asks for a snapshot with the details the open drill-ins need; one load at a time.
    mutating func requestSnapshot() -> [Command] {
        if loading { reloadPending = true; return [] }
        loading = true
        lastLoadStarted = now
        return [.loadSnapshot(snapshotRequest)]
    }

    mutating func reloadIfPending() -> [Command] {
        guard reloadPending else { return [] }
        reloadPending = false
        return requestSnapshot()
    }

    mutating func clampPanes() {
        let ctx = context, area = bodyArea
        for i in panes.states.indices { panes.states[i].clamp(ctx, area: area) }
    }

    // MARK: keys

    mutating func handleKey(_ key: Key) -> [Command] {
        if status?.isError == true, mode == .normal { status = nil }
        // Input modes a pane owns (a note, the search box) take the keys first.
        if let commands = pane.type.key(&self, key) { return commands }
        switch mode {
        case .filter: return handleFilterKey(key)
        case .command: return handleCommandKey(key)
        case .help: return handleHelpKey(key)
        case .note, .search:
            // The pane that owned the mode is gone: back to normal.
            mode = .normal
            return []
        case .row: return handleRowKey(key)
        case .confirmQuit:
            switch key {
            case .char("y"), .char("Y"), .enter:
                shouldQuit = true
                return [.log("quit during a run"), .quit]
            default:
                mode = .normal
                return []
            }
        case .normal:
            guard let action = keyMap.action(for: key, in: pane) else { return [] }
            if isTooSmall && action != .quit { return [] }
            return perform(action)
        }
    }

    /// Runs an action from the key map (also reached from mouse and commands).
    mutating func perform(_ action: Action) -> [Command] {
        switch action {
        case .quit:
            if run != nil { mode = .confirmQuit; return [] }
            shouldQuit = true
            return [.quit]
        case .help:
            mode = .help; helpScroll = 0
            return []
        case .command:
            mode = .command; input = InputLine(); completion = nil
            return []
        case .filter:
            guard pane.type.filters else { return paneAction(.filter) }
            mode = .filter; input = InputLine(text: currentFilter)
            return []
        case .run:
            return startRun([])
        case .refresh:
            return requestSnapshot() + pane.type.refreshNow(&self)
        case .copyID:
            guard let id = selectedID else {
                status = .refused("nothing selected to copy", at: now)
                return []
            }
            status = StatusMessage(text: "copied \(id) to the clipboard", isError: false, at: now)
            return [.copyToClipboard(id)]
        case .nextPane:
            return switchPane(to: PaneID(rawValue: (pane.rawValue + 1) % PaneID.allCases.count)!)
        case .prevPane:
            return switchPane(to: PaneID(rawValue: (pane.rawValue + PaneID.allCases.count - 1) % PaneID.allCases.count)!)
        case .pane1, .pane2, .pane3, .pane4, .pane5, .pane6, .pane7, .pane8, .pane9:
            guard let target = PaneID(rawValue: action.paneIndex!) else { return [] }
            return switchPane(to: target)
        default:
            return paneAction(action)
        }
    }

    mutating func switchPane(to target: PaneID) -> [Command] {
        pane = target
        clampPanes()
        return pane.type.shown(&self)
    }

    /// Passes navigation, drill and the pane's own actions to the current pane.
    mutating func paneAction(_ action: Action) -> [Command] {
        pane.type.update(&self, action)
    }

    /// Opens a quarantined row's detail over the pane (Enter on a source's quarantine or a check's failing records).
    mutating func openRow(_ row: QuarantinedRow) {
        rowDetail = RowDetail(row: row)
        mode = .row
    }

    public var selectedID: String? { panes[id: pane].selectedID(context) }

    /// Starts a run of `names` (all sources when empty); `allowDelete` names the sources whose held
    /// deletions this run may apply (`:run --allow-delete SOURCE`, as `steward run --allow-delete`).
    mutating func startRun(_ names: [String], allowDelete: [String] = []) -> [Command] {
        if readOnly {
            status = StatusMessage(text: "read-only: runs are disabled (started with --read-only)", isError: true, at: now)
            return []
        }
        if !canRun {
            status = StatusMessage(text: "no pipeline available to run from here; use `steward run`", isError: true, at: now)
            return []
        }
        if run != nil {
            status = StatusMessage(text: "a run is already in progress", isError: true, at: now)
            return []
        }
        if let known = snapshot?.sources.map(\.name) {
            let unknown = (names + allowDelete).filter { !known.contains($0) }
            if !unknown.isEmpty {
                status = StatusMessage(text: "unknown source \(unknown.joined(separator: ", ")); known: \(known.joined(separator: ", "))", isError: true, at: now)
                return []
            }
        }
        run = ActiveRun(sources: names, startedAt: now, last: nil, lastAt: now)
        var text = names.isEmpty ? "run started" : "run started for \(names.joined(separator: ", "))"
        if !allowDelete.isEmpty { text += "; applying the deletions held for \(allowDelete.joined(separator: ", ")) (audited)" }
        status = StatusMessage(text: text, isError: false, at: now)
        let allowing = allowDelete.isEmpty ? "" : " allowing deletions for \(allowDelete)"
        return [.startRun(sources: names, allowDelete: allowDelete), .log("run started \(names)\(allowing)")]
    }

    mutating func handleFilterKey(_ key: Key) -> [Command] {
        switch key {
        case .enter:
            mode = .normal
        case .escape:
            currentFilter = ""
            mode = .normal
        case .up, .down, .pageUp, .pageDown:
            // Moving while filtering keeps the typed filter and moves in the filtered list.
            let action: Action = key == .up ? .up : key == .down ? .down : key == .pageUp ? .pageUp : .pageDown
            return paneAction(action)
        default:
            let before = input.text
            input.handle(key)
            if input.text != before {
                let request = snapshotRequest
                currentFilter = input.text
                resetSelection()
                // A paged list filters in the catalog: the new filter is a new page to read.
                if snapshotRequest != request { return requestSnapshot() }
            }
        }
        return []
    }

    /// Keys over a quarantined row's detail: scroll, `v` reveal (audited first), Esc/Enter/q close.
    mutating func handleRowKey(_ key: Key) -> [Command] {
        guard var detail = rowDetail else { mode = .normal; return [] }
        switch key {
        case .escape, .enter, .char("q"), .backspace:
            mode = .normal; rowDetail = nil
            return []
        case .down, .char("j"): detail.scroll += 1
        case .up, .char("k"): detail.scroll = max(0, detail.scroll - 1)
        case .pageDown, .char(" "): detail.scroll += 10
        case .pageUp: detail.scroll = max(0, detail.scroll - 10)
        case .home, .char("g"): detail.scroll = 0
        case .ctrl("c"): return perform(.quit)
        case .char("v"):
            if detail.revealed {
                detail.revealed = false
                rowDetail = detail
                status = StatusMessage(text: "values masked again", isError: false, at: now)
                return []
            }
            if readOnly {
                status = StatusMessage(text: "read-only: revealing is disabled, as its audit event would be a write (started with --read-only)",
                                       isError: true, at: now)
                return []
            }
            return [.auditRowReveal(id: detail.row.id, source: detail.row.source)]
        default: break
        }
        rowDetail = detail
        return []
    }

    /// Puts the current list back at its top (the filter changed what it holds).
    mutating func resetSelection() { panes[id: pane].resetSelection() }

    mutating func handleCommandKey(_ key: Key) -> [Command] {
        switch key {
        case .escape:
            mode = .normal; completion = nil
            return []
        case .enter:
            mode = .normal; completion = nil
            return execute(input.text)
        case .tab, .backTab:
            if let c = completion {
                let next = (c.index + (key == .tab ? 1 : c.candidates.count - 1)) % c.candidates.count
                completion = (c.candidates, next)
                input = InputLine(text: c.candidates[next])
                return []
            }
            let candidates = ConsoleCommandLine.completions(
                for: input.text, sources: snapshot?.sources.map(\.name) ?? [], themes: themeNames)
            if candidates.count == 1 {
                input = InputLine(text: candidates[0] + (ConsoleCommandLine.takesArgument(candidates[0]) ? " " : ""))
            } else if !candidates.isEmpty {
                completion = (candidates, 0)
                input = InputLine(text: candidates[0])
            }
            return []
        case .backspace where input.text.isEmpty:
            mode = .normal
            return []
        default:
            if input.handle(key) { completion = nil }
            return []
        }
    }

    mutating func execute(_ text: String) -> [Command] {
        switch ConsoleCommandLine.parse(text) {
        case .empty: return []
        case .run(let names, let allowDelete): return startRun(names, allowDelete: allowDelete)
        case .theme(let name):
            guard let name else {
                status = StatusMessage(text: "themes: \(themeNames.joined(separator: ", "))", isError: false, at: now)
                return []
            }
            return [.loadTheme(name)]
        case .help:
            mode = .help; helpScroll = 0
            return []
        case .quit:
            return perform(.quit)
        case .progress:
            showRoadmapProgress()
            return []
        case .unknown(let word):
            status = StatusMessage(text: "unknown command :\(word) (try :help, or Tab to complete)", isError: true, at: now)
            return []
        case .invalid(let problem):
            status = StatusMessage(text: problem, isError: true, at: now)
            return []
        }
    }

    mutating func handleHelpKey(_ key: Key) -> [Command] {
        switch key {
        case .escape, .char("?"), .char("q"), .enter:
            mode = .normal
        case .down, .char("j"): helpScroll += 1
        case .up, .char("k"): helpScroll = max(0, helpScroll - 1)
        case .pageDown, .char(" "): helpScroll += 10
        case .pageUp: helpScroll = max(0, helpScroll - 10)
        case .home, .char("g"): helpScroll = 0
        case .ctrl("c"): return perform(.quit)
        default: break
        }
        return []
    }

    // MARK: mouse

    mutating func handleMouse(_ event: MouseEvent) -> [Command] {
        guard mode == .normal, !isTooSmall else { return [] }
        let layout = ScreenLayout(width: width, height: height)
        switch event.kind {
        case .wheelUp, .wheelDown:
            var commands: [Command] = []
            for _ in 0..<3 { commands += paneAction(event.kind == .wheelUp ? .up : .down) }
            return commands
        case .click:
            if event.y == layout.tabs.y {
                let ranges = Tabs.hitRanges(PaneID.allCases.map(\.title), x: layout.tabs.x, width: layout.tabs.width)
                if let i = ranges.firstIndex(where: { $0.contains(event.x) }) { return switchPane(to: PaneID(rawValue: i)!) }
                return []
            }
            guard layout.body.contains(x: event.x, y: event.y) else { return [] }
            return pane.type.click(&self, x: event.x, y: event.y)
        }
    }
}
