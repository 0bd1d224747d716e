import Foundation
import StewardCatalog
import StewardIdentity

/// A value read from the catalog, compared by the load that produced it: the engine's read models
/// need not be Equatable, and a new load is always a change worth drawing.
public struct Loaded<Value: Sendable>: Sendable, Equatable {
    public let generation: Int
    public let value: Value
    public static func == (a: Loaded, b: Loaded) -> Bool { a.generation == b.generation }
}

/// Customers pane: a type-ahead search box over the customer index, ranked results, and the 360 of
/// a customer in sub-tabs (Profile, Sources, History, Activity, Explain); `R` toggles the review
/// queue, where `a`/`x` accept or reject a pair. PII (email, phone, street, dob, national id) stays
/// masked until `v`, which first writes an audit event naming the OS user and the customer.
///
/// The pane says what it needs (`needs()`); answers arrive as `CustomerReply` messages. One request
/// of each kind is in flight at a time, so fast typing never queues stale searches.
public struct CustomersPane: Equatable, Sendable {
    public enum View: Equatable, Sendable { case search, customer, review }

    public enum Tab: Int, CaseIterable, Sendable {
        case profile, sources, history, activity, explain
        var title: String { ["Profile", "Sources", "History", "Activity", "Explain"][rawValue] }
    }

    public struct Summary: Equatable, Sendable {
        public var customers: Int
        public var reviewPairs: Int
    }

    public struct Results: Equatable, Sendable {
        public var query: String
        public var hits: [CustomerSearch.Hit]
        public var milliseconds: Double
    }

    /// Shorter queries match too much to be useful (and skip the FTS prefix index).
    static let minimumQuery = 2
    /// Explain offers pairs among a customer's first records only (n² pairs).
    static let maxPairRecords = 30

    public var query = InputLine()
    public var view: View = .search
    /// Where Esc goes from the 360 (the results, or the review queue it was opened from).
    var backTo: View = .search
    public var tab: Tab = .profile
    public var list = ListState()
    public var tabLists: [Int: ListState] = [:]
    public var reviewList = ListState()

    public var summary: Summary?
    public var results: Results?
    public var openId: String?
    public var customer: Loaded<Customer360>?
    public var explanation: Loaded<Explanation>?
    public var review: [ReviewQueue.Item]?
    /// Customers whose PII is shown; only ever those selected, and only after the audit was written.
    public var revealed: Set<String> = []

    /// Request kinds in flight.
    var inFlight: Set<String> = []
    /// Failed requests by key, with the message (not asked again until a refresh).
    var failures: [String: String] = [:]
    /// Kinds to ask again although their answer is at hand (after a run or a refresh).
    var refreshing: Set<String> = []
    /// Enter came before the results of the typed query: open the top one when it arrives.
    var openOnArrival = false
    var generation = 0

    public init() {}

    // MARK: data

    var trimmedQuery: String { query.text.trimmingCharacters(in: .whitespaces) }
    var hits: [CustomerSearch.Hit] { results?.hits ?? [] }
    var selectedHit: CustomerSearch.Hit? { hits[safe: list.selected] }

    /// The open customer, once loaded.
    public var openCustomer: Customer360? {
        guard let c = customer?.value, c.requestedId == openId else { return nil }
        return c
    }

    func tabList(_ t: Tab) -> ListState { tabLists[t.rawValue, default: ListState()] }

    /// Every pair of the customer's source records (the Explain sub-tab's list).
    static func pairs(_ c: Customer360) -> [(a: String, b: String)] {
        let refs = c.sources.prefix(maxPairRecords).map { "\($0.source):\($0.recordId)" }
        var out: [(a: String, b: String)] = []
        for i in refs.indices { for j in refs.indices where j > i { out.append((refs[i], refs[j])) } }
        return out
    }

    var selectedReviewItem: ReviewQueue.Item? { view == .review ? review?[safe: reviewList.selected] : nil }

    /// The pair the waterfall explains: the selected pair of the open customer, or of the review queue.
    var selectedPair: (a: String, b: String)? {
        switch view {
        case .customer:
            guard tab == .explain, let c = openCustomer else { return nil }
            return Self.pairs(c)[safe: tabList(.explain).selected]
        case .review:
            return selectedReviewItem.map { ($0.a, $0.b) }
        case .search:
            return nil
        }
    }

    /// The customers `v` reveals: the selected result, the open customer, or both sides of a pair.
    public var selectedCustomers: Set<String> {
        switch view {
        case .search: return Set([selectedHit?.customerId].compactMap { $0 })
        case .customer: return Set([openCustomer?.customerId].compactMap { $0 })
        case .review: return Set([selectedReviewItem?.customerA, selectedReviewItem?.customerB].compactMap { $0 })
        }
    }

    func rowCount(_ t: Tab, _ c: Customer360) -> Int? {
        switch t {
        case .sources: return c.sources.count
        case .history: return c.history.count
        case .explain: return Self.pairs(c).count
        case .profile, .activity: return nil
        }
    }

    public var selectedID: String? {
        switch view {
        case .search: return selectedHit?.customerId
        case .customer:
            if tab == .sources, let c = openCustomer, let s = c.sources[safe: tabList(.sources).selected] { return "\(s.source):\(s.recordId)" }
            return openCustomer?.customerId ?? openId
        case .review: return selectedReviewItem.map { "\($0.a) \($0.b)" }
        }
    }

    /// Whether `action` means something in the current view (drives the footer).
    func offers(_ action: Action) -> Bool {
        switch action {
        case .accept, .reject: return view == .review && selectedReviewItem != nil
        case .reveal: return !selectedCustomers.isEmpty
        case .nextSection, .prevSection: return view == .customer
        case .open: return view == .search ? selectedHit != nil : view == .review && selectedReviewItem?.customerA != nil
        case .back: return view != .search || !query.text.isEmpty
        default: return true
        }
    }

    // MARK: requests

    /// What the view needs from the catalog that it does not have (nor has asked for).
    public mutating func needs() -> [CustomerRequest] {
        var out: [CustomerRequest] = []
        func want(_ r: CustomerRequest, missing: Bool) {
            guard missing || refreshing.contains(r.kind), !inFlight.contains(r.kind), failures[r.key] == nil else { return }
            inFlight.insert(r.kind)
            refreshing.remove(r.kind)
            out.append(r)
        }
        want(.summary, missing: summary == nil)
        let q = trimmedQuery
        if q.count >= Self.minimumQuery { want(.search(q), missing: results?.query != q) }
        if let id = openId, view == .customer { want(.load(id), missing: openCustomer == nil) }
        if view == .review { want(.review, missing: review == nil) }
        if let p = selectedPair {
            let have = explanation.map { $0.value.a == p.a && $0.value.b == p.b } ?? false
            want(.explain(p.a, p.b), missing: !have)
        }
        return out
    }

    /// Asks for everything shown again (the catalog changed: a run finished, or `ctrl-r`).
    mutating func refresh() {
        failures = [:]
        refreshing = ["summary", "search", "load", "review", "explain"]
    }

    /// Takes an answer; returns a message for the status line when there is one to give.
    mutating func apply(_ reply: CustomerReply) -> (text: String, isError: Bool)? {
        generation += 1
        switch reply {
        case .summary(let customers, let pairs):
            inFlight.remove("summary")
            summary = Summary(customers: customers, reviewPairs: pairs)
        case .found(let q, let found, let ms):
            inFlight.remove("search")
            // A new query's results start at the best match (as fzf does).
            if results?.query != q { list = ListState() }
            results = Results(query: q, hits: found, milliseconds: ms)
            if openOnArrival, q == trimmedQuery {
                openOnArrival = false
                if let hit = selectedHit { open(hit.customerId, from: .search) }
            }
        case .loaded(let id, let c):
            inFlight.remove("load")
            guard let c else {
                failures[CustomerRequest.load(id).key] = "no customer \(id) (a later run may have merged or removed it)"
                return nil
            }
            customer = Loaded(generation: generation, value: c)
        case .explained(let e):
            inFlight.remove("explain")
            explanation = Loaded(generation: generation, value: e)
        case .review(let items):
            inFlight.remove("review")
            review = items
        case .revealed(let ids, let actor):
            inFlight.remove("reveal")
            // Only what is still selected is shown; moving on masks again.
            revealed = Set(ids).intersection(selectedCustomers)
            return ("PII of \(ids.sorted().joined(separator: " and ")) revealed — audited as \(actor); v masks it again", false)
        case .decided(let a, let b, let accept):
            inFlight.remove("decide")
            if let i = review?.firstIndex(where: { $0.a == a && $0.b == b }) { review?[i].decision = accept ? "accept" : "reject" }
            refreshing.insert("explain")  // its "now:" line names the decision
            return ("\(accept ? "accepted" : "rejected") \(a) – \(b) (audited): applies on the next run — press r to run now", false)
        case .failed(let request, let message):
            inFlight.remove(request.kind)
            switch request {
            case .reveal: return ("not revealed: \(message)", true)
            case .decide: return ("decision not saved: \(message)", true)
            default: failures[request.key] = message
            }
        }
        return nil
    }

    // MARK: update

    /// Navigation, open and back; returns false when the action means nothing here.
    public mutating func handle(_ action: Action, area: Rect) -> Bool {
        let layout = Self.layout(area, view: view, reviewRows: review?.count ?? 0)
        switch view {
        case .search:
            if navigate(&list, action, count: hits.count, height: Table.bodyHeight(layout.table)) { return true }
            switch action {
            case .open:
                guard let hit = selectedHit else { return false }
                open(hit.customerId, from: .search)
                return true
            case .back:
                guard !query.text.isEmpty else { return false }
                query = InputLine(); results = nil; list = ListState()
                return true
            default: return false
            }
        case .customer:
            switch action {
            case .nextSection: tab = Tab(rawValue: (tab.rawValue + 1) % Tab.allCases.count)!; return true
            case .prevSection: tab = Tab(rawValue: (tab.rawValue + Tab.allCases.count - 1) % Tab.allCases.count)!; return true
            case .back: view = backTo; return true
            default:
                guard let c = openCustomer, let count = rowCount(tab, c) else { return false }
                var l = tabList(tab)
                defer { tabLists[tab.rawValue] = l }
                return navigate(&l, action, count: count, height: Self.tabListHeight(tab, layout.content, pairs: count))
            }
        case .review:
            if navigate(&reviewList, action, count: review?.count ?? 0, height: Table.bodyHeight(layout.table)) { return true }
            switch action {
            case .open:
                guard let id = selectedReviewItem?.customerA else { return false }
                open(id, from: .review)
                return true
            case .back: view = .search; return true
            default: return false
            }
        }
    }

    mutating func open(_ id: String, from: View) {
        openId = id
        view = .customer
        backTo = from
        tab = .profile
        tabLists = [:]
    }

    public mutating func clamp(area: Rect) {
        let layout = Self.layout(area, view: view, reviewRows: review?.count ?? 0)
        list.clamp(count: hits.count, height: Table.bodyHeight(layout.table))
        reviewList.clamp(count: review?.count ?? 0, height: Table.bodyHeight(layout.table))
        if let c = openCustomer {
            for t in Tab.allCases {
                guard let n = rowCount(t, c) else { continue }
                var l = tabList(t)
                l.clamp(count: n, height: Self.tabListHeight(t, layout.content, pairs: n))
                tabLists[t.rawValue] = l
            }
        }
    }

    /// A click on the search box focuses it (true); on a row, selects it, and opens it when selected already.
    mutating func click(x: Int, y: Int, area: Rect) -> (focusSearch: Bool, changed: Bool) {
        let layout = Self.layout(area, view: view, reviewRows: review?.count ?? 0)
        if view == .search, layout.searchBox.contains(x: x, y: y) { return (true, true) }
        switch view {
        case .search:
            guard let row = Table.row(at: y, in: layout.table, state: list, count: hits.count) else { return (false, false) }
            if row == list.selected { return (false, handle(.open, area: area)) }
            list.select(row, count: hits.count, height: Table.bodyHeight(layout.table))
        case .review:
            let count = review?.count ?? 0
            guard let row = Table.row(at: y, in: layout.table, state: reviewList, count: count) else { return (false, false) }
            reviewList.select(row, count: count, height: Table.bodyHeight(layout.table))
        case .customer:
            return (false, false)
        }
        return (false, true)
    }

    // MARK: layout

    struct Areas { var searchBox: Rect; var table: Rect; var info: Rect; var tabs: Rect; var content: Rect; var detail: Rect }

    static func layout(_ area: Rect, view: View, reviewRows: Int = 0) -> Areas {
        let inner = area.inset(1)
        let none = Rect(x: 0, y: 0, width: 0, height: 0)
        switch view {
        case .search:
            let p = Layout.rows(inner, [.fixed(1), .fill(), .fixed(2)])
            return Areas(searchBox: p[0], table: p[1], info: none, tabs: none, content: none, detail: p[2])
        case .customer:
            let p = Layout.rows(inner, [.fixed(1), .fixed(1), .fill()])
            return Areas(searchBox: none, table: none, info: p[0], tabs: p[1], content: p[2], detail: none)
        case .review:
            // The queue's table takes the room its rows need, up to 40 %; the waterfall the rest.
            let p = Layout.rows(inner, [.fixed(min(reviewRows + 1, max(4, inner.height * 2 / 5))), .fill()])
            return Areas(searchBox: none, table: p[0], info: none, tabs: none, content: none, detail: p[1])
        }
    }

    /// Rows of a sub-tab's selectable list: tables lose a line to the header; the pair list of Explain
    /// takes a quarter of the room and leaves the rest to the waterfall.
    static func tabListHeight(_ t: Tab, _ content: Rect, pairs: Int) -> Int {
        t == .explain ? explainListHeight(content, pairs: pairs) : Table.bodyHeight(content)
    }

    static func explainListHeight(_ content: Rect, pairs: Int) -> Int {
        max(1, min(pairs, max(2, content.height / 4)))
    }

    // MARK: view

    public func render(_ area: Rect, _ ctx: PaneContext, searchFocused: Bool, into buffer: inout ScreenBuffer) {
        switch view {
        case .search: renderSearch(area, ctx, focused: searchFocused, into: &buffer)
        case .customer: renderCustomer(area, ctx, into: &buffer)
        case .review: renderReview(area, ctx, into: &buffer)
        }
    }

    func shown(_ value: String?, _ attribute: String, of customer: String?) -> String {
        guard let value else { return "" }
        if let customer, revealed.contains(customer) { return value }
        switch attribute {
        case "email": return Mask.email(value) ?? ""
        case "phone": return Mask.phone(value) ?? ""
        default: return Customer360.piiAttributes.contains(attribute) ? Mask.other(value) ?? "" : value
        }
    }

    func revealLine(_ ids: Set<String>, theme: Theme) -> Line {
        guard !ids.isEmpty else { return [] }
        if ids.isSubset(of: revealed) { return [Span("◉ PII revealed (audited)", theme.warn), Span(" — v masks it again", theme.muted)] }
        return [Span("◌ PII masked", theme.muted), Span(" — v reveals (audited)", theme.muted)]
    }

    func renderSearch(_ area: Rect, _ ctx: PaneContext, focused: Bool, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let layout = Self.layout(area, view: .search)
        let count: Line = summary.map { [Span("(\(Format.count($0.customers)))", theme.muted)] } ?? []
        let queue: Line = summary.map { $0.reviewPairs > 0 ? [Span("  review queue \(Format.count($0.reviewPairs)) — R ", theme.muted)] : [] } ?? []
        Block(title: [Span("Customers ", theme.title)] + count + queue, style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)

        // The search box, with how many results and how long the lookup took on its right.
        let q = trimmedQuery
        var right = ""
        if inFlight.contains("search") { right = "searching…" }
        else if let r = results, r.query == q { right = "\(r.hits.count) result\(r.hits.count == 1 ? "" : "s") · \(String(format: "%.1f ms", r.milliseconds))" }
        let box = layout.searchBox
        let boxWidth = max(10, box.width - right.displayWidth - 1)
        let boxRect = Rect(x: box.x, y: box.y, width: boxWidth, height: 1)
        if focused {
            query.render(prompt: "Search › ", boxRect, style: theme.input.with(.underline), into: &buffer)
        } else {
            let used = buffer.write("Search › ", x: box.x, y: box.y, style: theme.accent)
            let text: Span = query.text.isEmpty ? Span("press / and type a name, email, phone, postcode or id", theme.muted) : Span(query.text)
            buffer.write([text], x: box.x + used, y: box.y, maxWidth: boxWidth - used, base: theme.text)
        }
        buffer.write(right, x: box.maxX - right.displayWidth, y: box.y, style: theme.muted)

        let table = layout.table
        var message: [Line] = []
        if let error = failures["summary"] {
            message = [[Span("Cannot read customers: \(error)", theme.error)]]
        } else if summary?.customers == 0 {
            message = [[Span("No customers yet: run `steward run` (or press r) to load the sources and match them into customers.")],
                       [Span("Then search here by name (any spelling), email, phone (any format), postcode or id.", theme.muted)]]
        } else if q.count < Self.minimumQuery {
            message = [[Span("Search customers by name (any spelling), email, phone (any format), postcode or customer id.")],
                       [Span(focused ? "Type at least two characters; results follow as you type." : "Press / to type in the search box; Enter opens the 360.", theme.muted)]]
            if let s = summary, s.reviewPairs > 0 {
                message += [[], [Span("\(Format.count(s.reviewPairs)) pairs wait in the review queue: press R to accept or reject them.", theme.muted)]]
            }
        } else if let error = failures[CustomerRequest.search(q).key] {
            message = [[Span("Search failed: \(error)", theme.error)]]
        } else if let r = results, r.query == q, r.hits.isEmpty {
            message = [[Span("No customer matches “\(q)”.")],
                       [Span("Names match by sound and nickname too, phones by their last digits; try fewer words.", theme.muted)]]
        }
        if !message.isEmpty {
            TextBlock.render(message, Rect(x: table.x, y: table.y + 1, width: table.width, height: max(0, table.height - 1)), base: theme.text, into: &buffer)
        } else {
            Columns.table(resultColumns(theme), rows: hits, width: table.width, sort: SortState(), theme: theme)
                .render(table, state: list, into: &buffer)
        }

        let detail = layout.detail
        buffer.fill(detail.row(0), symbol: "─", style: theme.border)
        if let hit = selectedHit, message.isEmpty {
            let line: Line = [Span(hit.customerId, theme.accent), Span(" \(hit.name)  ", theme.title), Span("Enter opens the 360  ", theme.muted)]
                + revealLine([hit.customerId], theme: theme)
            buffer.write(line, x: detail.x, y: detail.y + 1, maxWidth: detail.width, base: theme.text)
        }
    }

    func resultColumns(_ theme: Theme) -> [Column<CustomerSearch.Hit>] {
        [
            Column("rank", "#", .fixed(3), .right) { [Span("\($0.rank)", theme.muted)] },
            Column("id", "Customer", .fixed(9)) { [Span($0.customerId, theme.accent)] },
            Column("name", "Name", .fill(14)) { [Span($0.name, theme.title)] },
            Column("email", "Email", .fill(16), priority: 1) { [Span(shown($0.email, "email", of: $0.customerId))] },
            Column("phone", "Phone", .fixed(15)) { [Span(shown($0.phone, "phone", of: $0.customerId))] },
            Column("city", "City", .fixed(12), priority: 2) { [Span($0.city ?? "", theme.muted)] },
        ]
    }

    func renderCustomer(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let layout = Self.layout(area, view: .customer)
        let id = openId ?? ""
        guard let c = openCustomer else {
            Block(title: [Span("Customer ", theme.title), Span(id, theme.accent), Span(" — Esc back ", theme.muted)],
                  style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
            let text = failures[CustomerRequest.load(id).key].map { ("Cannot load \(id): \($0)", theme.error) } ?? ("Loading \(id)…", theme.muted)
            buffer.write(text.0, x: layout.info.x, y: layout.info.y, style: text.1, maxWidth: layout.info.width)
            return
        }
        let name = [c.golden["first_name"], c.golden["last_name"]].compactMap { $0 }.joined(separator: " ")
        Block(title: [Span("Customer ", theme.title), Span(c.customerId, theme.accent), Span(" \(name) ", theme.title), Span("— Esc back ", theme.muted)],
              style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
        var info: Line = []
        if c.requestedId != c.customerId { info += [Span("\(c.requestedId) was merged into \(c.customerId) · ", theme.warn)] }
        info += [Span("\(c.sources.count) source records · \(c.history.count) version\(c.history.count == 1 ? "" : "s") · \(c.orders) orders   ", theme.muted)]
        info += revealLine([c.customerId], theme: theme)
        buffer.write(info, x: layout.info.x, y: layout.info.y, maxWidth: layout.info.width, base: theme.text)
        let pairs = Self.pairs(c)
        let titles = Tab.allCases.map { t -> String in
            switch t {
            case .sources: return "Sources \(c.sources.count)"
            case .history: return "History \(c.history.count)"
            case .explain: return "Explain \(pairs.count)"
            default: return t.title
            }
        }
        renderSections(titles, current: tab.rawValue, layout.tabs, theme: theme, into: &buffer)
        let content = layout.content
        let reveal = revealed.contains(c.customerId)
        switch tab {
        case .profile:
            var lines: [Line] = []
            for a in Survivorship.attributes {
                guard let v = c.golden[a] else { continue }
                let pii = Customer360.piiAttributes.contains(a)
                lines.append([Span(a.replacingOccurrences(of: "_", with: " ").padded(to: 13), theme.muted),
                              Span(shown(v, a, of: c.customerId).padded(to: 30), pii && !reveal ? theme.muted : theme.text),
                              Span(" ← \(c.provenance[a] ?? "")", theme.muted)])
            }
            if lines.isEmpty { lines = [[Span("The golden record is empty.", theme.muted)]] }
            TextBlock.render(lines, content, base: theme.text, into: &buffer)
        case .sources:
            let cols: [Column<(source: String, recordId: String, matchProbability: Double?)>] = [
                Column("source", "Source", .fill(14)) { [Span($0.source, theme.title)] },
                Column("record", "Record", .fill(12)) { [Span($0.recordId)] },
                Column("p", "Match prob.", .fixed(11), .right) { [Span($0.matchProbability.map { String(format: "%.4f", $0) } ?? "seed", theme.muted)] },
            ]
            Columns.table(cols, rows: c.sources, width: content.width, sort: SortState(), theme: theme)
                .render(content, state: tabList(.sources), into: &buffer)
        case .history:
            let rows = reveal ? c.history : c.maskedHistory
            func v(_ h: [String: String?], _ k: String) -> String { (h[k] ?? nil) ?? "" }
            let cols: [Column<[String: String?]>] = [
                Column("from", "From", .fixed(10)) { [Span(String(v($0, "valid_from").prefix(10)))] },
                Column("to", "To", .fixed(10)) { h in [Span(v(h, "valid_to").isEmpty ? "current" : String(v(h, "valid_to").prefix(10)), v(h, "valid_to").isEmpty ? theme.ok : theme.text)] },
                Column("reason", "Reason", .fill(10), priority: 2) { [Span(v($0, "reason"), theme.muted)] },
                Column("name", "Name", .fill(12)) { [Span("\(v($0, "first_name")) \(v($0, "last_name"))")] },
                Column("email", "Email", .fill(14), priority: 1) { [Span(v($0, "email"))] },
                Column("phone", "Phone", .fixed(14), priority: 3) { [Span(v($0, "phone"))] },
                Column("city", "City", .fixed(12), priority: 4) { [Span(v($0, "city"), theme.muted)] },
            ]
            Columns.table(cols, rows: rows, width: content.width, sort: SortState(), theme: theme)
                .render(content, state: tabList(.history), into: &buffer)
        case .activity:
            var lines: [Line] = [
                [Span("Orders    ", theme.muted), Span("\(c.orders)"), Span("   revenue ", theme.muted), Span(String(format: "%.2f", c.revenue)),
                 Span("   last order ", theme.muted), Span(c.lastOrderAt.map { String($0.prefix(10)) } ?? "–")],
                [Span("Support   ", theme.muted), Span("\(c.tickets) tickets"), Span("   other events ", theme.muted), Span("\(c.events)")],
                [],
                [Span("Addresses", theme.title), Span(" (from \(c.sources.count) source records)", theme.muted)],
            ]
            for a in c.addresses {
                lines.append([Span("  " + [shown(a.street, "street", of: c.customerId), a.postcode ?? "", a.city ?? "", a.country ?? ""]
                    .filter { !$0.isEmpty }.joined(separator: ", ")),
                              Span("  (\(a.sources) record\(a.sources == 1 ? "" : "s"))", theme.muted)])
            }
            if c.addresses.isEmpty { lines.append([Span("  none recorded", theme.muted)]) }
            if c.orders + c.tickets + c.events == 0 {
                lines += [[], [Span("No orders, tickets or events reference this customer's records, emails or phones.", theme.muted)]]
            }
            TextBlock.render(lines, content, base: theme.text, into: &buffer)
        case .explain:
            guard !pairs.isEmpty else {
                TextBlock.render([[Span("One source record: nothing to compare.", theme.muted)],
                                  [Span("Explain shows, for two records, each comparison's level and weight and the resulting probability.", theme.muted)]],
                                 content, base: theme.text, into: &buffer)
                return
            }
            let h = Self.explainListHeight(content, pairs: pairs.count)
            let listArea = Rect(x: content.x, y: content.y, width: content.width, height: h)
            ListView(items: pairs.map { [Span($0.a), Span(" ↔ ", theme.muted), Span($0.b)] }, theme: theme)
                .render(listArea, state: tabList(.explain), into: &buffer)
            let rest = Rect(x: content.x, y: content.y + h, width: content.width, height: content.height - h)
            renderWaterfall(Rect(x: rest.x, y: rest.y, width: rest.width, height: rest.height), ctx, revealA: reveal, revealB: reveal, into: &buffer)
        }
    }

    func renderReview(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let layout = Self.layout(area, view: .review, reviewRows: review?.count ?? 0)
        let items = review ?? []
        Block(title: [Span("Review queue ", theme.title), Span("(\(items.count) pairs)", theme.muted),
                      Span(" a accepts · x rejects · applies on the next run — R/Esc back ", theme.muted)],
              style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
        let table = layout.table
        if review == nil {
            let text = failures["review"].map { ("Cannot read the review queue: \($0)", theme.error) } ?? ("Loading the review queue…", theme.muted)
            buffer.write(text.0, x: table.x, y: table.y, style: text.1, maxWidth: table.width)
            return
        }
        if items.isEmpty {
            let text = summary?.customers == 0
                ? "No matching pass yet: run `steward run` (or press r) to load and match the sources."
                : "The review queue is empty: every scored pair was clearly the same customer or not."
            TextBlock.render([[Span(text, theme.muted)]], table, base: theme.text, into: &buffer)
            return
        }
        let cols: [Column<ReviewQueue.Item>] = [
            Column("p", "Prob.", .fixed(6), .right) { [Span(String(format: "%.3f", $0.probability))] },
            Column("a", "Record A", .fill(14)) { [Span($0.a)] },
            Column("b", "Record B", .fill(14)) { [Span($0.b)] },
            Column("customers", "Customers", .fixed(19), priority: 2) { i in
                [Span(i.customerA == i.customerB ? "both \(i.customerA ?? "–")" : "\(i.customerA ?? "–") \(i.customerB ?? "–")", theme.muted)]
            },
            Column("why", "Why", .fixed(14), priority: 1) { [Span($0.status == "review" ? "review band" : "chaining guard", theme.muted)] },
            Column("decision", "Decision", .fixed(17)) { i in
                switch i.decision {
                case "accept": return [Span("✓ accept·next run", theme.ok)]
                case "reject": return [Span("✗ reject·next run", theme.error)]
                default: return [Span("? undecided", theme.muted)]
                }
            },
        ]
        Columns.table(cols, rows: items, width: table.width, sort: SortState(), theme: theme).render(table, state: reviewList, into: &buffer)
        let item = selectedReviewItem
        renderWaterfall(layout.detail, ctx, revealA: item?.customerA.map(revealed.contains) ?? false,
                        revealB: item?.customerB.map(revealed.contains) ?? false, into: &buffer)
    }

    /// The text waterfall of the selected pair: the prior, then each comparison's level and weight
    /// moving the running total (a bar from the previous total to the new one), then the probability.
    func renderWaterfall(_ area: Rect, _ ctx: PaneContext, revealA: Bool, revealB: Bool, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        guard area.height >= 2, let pair = selectedPair else { return }
        buffer.fill(area.row(0), symbol: "─", style: theme.border)
        buffer.write([Span(" Explain ", theme.title), Span("\(pair.a) ↔ \(pair.b) ", theme.muted)], x: area.x + 1, y: area.y,
                     maxWidth: area.width - 2, base: theme.text)
        let body = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1)
        guard let e = explanation?.value, e.a == pair.a, e.b == pair.b else {
            let key = CustomerRequest.explain(pair.a, pair.b).key
            let text = failures[key].map { ("Cannot explain: \($0)", theme.error) } ?? ("Explaining…", theme.muted)
            buffer.write(text.0, x: body.x, y: body.y, style: text.1, maxWidth: body.width)
            return
        }
        for (i, line) in ExplainWaterfall.lines(e, width: body.width, revealA: revealA, revealB: revealB, theme: theme).prefix(body.height).enumerated() {
            buffer.write(line, x: body.x, y: body.y + i, maxWidth: body.width, base: theme.text)
        }
    }
}

// MARK: - the pane in the app

extension AppState {
    /// The Customers pane's requests, as commands.
    mutating func customerCommands() -> [Command] {
        customers.needs().map { .customers($0) }
    }

    /// `/` in the Customers pane (or a click on the box): the search box takes the keys.
    mutating func focusCustomerSearch() -> [Command] {
        customers.view = .search
        customers.openOnArrival = false
        mode = .search
        return customerCommands()
    }

    /// Keys while the search box has focus: text edits search as you type; arrows move in the results.
    mutating func handleSearchKey(_ key: Key) -> [Command] {
        switch key {
        case .escape:
            mode = .normal
        case .enter:
            mode = .normal
            if customers.results?.query == customers.trimmedQuery { _ = customers.handle(.open, area: bodyArea) }
            else { customers.openOnArrival = customers.trimmedQuery.count >= CustomersPane.minimumQuery }
        case .up, .down, .pageUp, .pageDown:
            let action: Action = key == .up ? .up : key == .down ? .down : key == .pageUp ? .pageUp : .pageDown
            _ = customers.handle(action, area: bodyArea)
        case .tab, .backTab:
            mode = .normal
            return perform(key == .tab ? .nextPane : .prevPane)
        case .ctrl("c"):
            return perform(.quit)
        default:
            customers.query.handle(key)
        }
        return customerCommands()
    }

    /// An action in the Customers pane.
    mutating func customersAction(_ action: Action) -> [Command] {
        switch action {
        case .search:
            return focusCustomerSearch()
        case .review:
            customers.view = customers.view == .review ? .search : .review
            clampPanes()
        case .reveal:
            if readOnly {
                status = StatusMessage(text: "read-only: revealing is disabled, as its audit event would be a write (started with --read-only)",
                                       isError: true, at: now)
                return []
            }
            let ids = customers.selectedCustomers
            guard !ids.isEmpty else {
                status = StatusMessage(text: "select a customer to reveal", isError: false, at: now)
                return []
            }
            if ids.isSubset(of: customers.revealed) {
                customers.revealed.subtract(ids)
                status = StatusMessage(text: "PII masked again", isError: false, at: now)
                return []
            }
            guard !customers.inFlight.contains("reveal") else { return [] }
            customers.inFlight.insert("reveal")
            let via = customers.view == .review ? "console: review queue" : customers.view == .customer ? "console: customer 360" : "console: search results"
            return [.customers(.reveal(ids.sorted(), via: via))]
        case .accept, .reject:
            if readOnly {
                status = StatusMessage(text: "read-only: decisions are disabled (started with --read-only)", isError: true, at: now)
                return []
            }
            guard let item = customers.selectedReviewItem else {
                status = StatusMessage(text: "open the review queue (R) and select a pair to accept or reject", isError: false, at: now)
                return []
            }
            guard !customers.inFlight.contains("decide") else { return [] }
            customers.inFlight.insert("decide")
            return [.customers(.decide(item.a, item.b, accept: action == .accept))]
        default:
            _ = customers.handle(action, area: bodyArea)
        }
        return customerCommands()
    }

    mutating func applyCustomerReply(_ reply: CustomerReply) -> [Command] {
        if let message = customers.apply(reply) {
            status = StatusMessage(text: message.text, isError: message.isError, at: now)
        }
        clampPanes()
        return customerCommands()
    }

    /// After a run or `ctrl-r`: what the Customers pane shows is read again (if it was ever opened).
    mutating func refreshCustomers() -> [Command] {
        guard customers.summary != nil || !customers.failures.isEmpty else { return [] }
        customers.refresh()
        return customerCommands()
    }
}
