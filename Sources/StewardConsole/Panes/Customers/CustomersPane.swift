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
}
