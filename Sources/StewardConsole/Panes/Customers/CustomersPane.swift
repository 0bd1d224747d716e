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
///
/// Another process may erase a customer the pane shows (`steward forget`): after every catalog
/// refresh the pane asks which of the customers it holds were erased, drops all it holds of them,
/// shows them as erased, and refuses to reveal them.
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
    /// Customers erased on request since the pane read them (id → when); nothing else of them is kept.
    public var erased: [String: String] = [:]
    /// The newest erasure request seen; a newer one means the customer count changed.
    var latestErasure: Int64?

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

    /// The query without blanks at its ends. Looks at the ends only: it runs on every key, and the
    /// box may hold a long paste.
    var trimmedQuery: String {
        let text = query.text
        func blank(_ c: Character) -> Bool { c.unicodeScalars.allSatisfy(CharacterSet.whitespaces.contains) }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return "" }
        return String(text[first...last])
    }

    /// Whether a query is long enough to search (without counting all of a long one).
    static func searchable(_ q: String) -> Bool { q.index(q.startIndex, offsetBy: minimumQuery, limitedBy: q.endIndex) != nil }
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
        let ids: [String?]
        switch view {
        case .search: ids = [selectedHit?.customerId]
        // While the 360 loads it is the id opened: a reveal made in the results stays on for its 360.
        case .customer: ids = [openCustomer?.customerId ?? openId]
        case .review: ids = [selectedReviewItem?.customerA, selectedReviewItem?.customerB]
        }
        return Set(ids.compactMap { $0 }.filter { erased[$0] == nil })
    }

    /// Selected customers that were erased: `v` says so rather than revealing (there is nothing to show).
    var selectedErased: [String] {
        let ids: [String?]
        switch view {
        case .search: ids = [selectedHit?.customerId]
        case .customer: ids = [openId, openCustomer?.customerId]
        case .review: ids = [selectedReviewItem?.customerA, selectedReviewItem?.customerB]
        }
        return Set(ids.compactMap { $0 }.filter { erased[$0] != nil }).sorted()
    }

    /// Every customer whose data the pane holds (results, the open 360, the explained pair): what an
    /// erasure by another process is checked against.
    var heldCustomers: Set<String> {
        var ids = Set(hits.map(\.customerId))
        if let openId { ids.insert(openId) }
        if let c = customer?.value { ids.formUnion([c.customerId, c.requestedId]) }
        if let item = selectedReviewItem { ids.formUnion([item.customerA, item.customerB].compactMap { $0 }) }
        return ids.subtracting(erased.keys)
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
        if Self.searchable(q) { want(.search(q), missing: results?.query != q) }
        if let id = openId, view == .customer, erased[id] == nil { want(.load(id), missing: openCustomer == nil) }
        if view == .review { want(.review, missing: review == nil) }
        if let p = selectedPair {
            let have = explanation.map { $0.value.a == p.a && $0.value.b == p.b } ?? false
            want(.explain(p.a, p.b), missing: !have)
        }
        if refreshing.contains("erasures") {
            let held = heldCustomers
            if held.isEmpty { refreshing.remove("erasures") } else { want(.erasures(held.sorted()), missing: false) }
        }
        return out
    }

    /// The catalog was read again (every few seconds): ask whether anyone the pane holds was erased
    /// meanwhile. Returns whether there is anyone to ask about.
    mutating func checkErasures() -> Bool {
        guard !heldCustomers.isEmpty else { return false }
        refreshing.insert("erasures")
        return true
    }

    /// Drops everything held of customers erased on request (id → when); returns those not known before.
    @discardableResult
    mutating func forgetErased(_ found: [String: String]) -> [String: String] {
        guard !found.isEmpty else { return [:] }
        let newly = found.filter { erased[$0.key] == nil }
        erased.merge(found) { first, _ in first }
        revealed.subtract(found.keys)
        if var r = results {
            r.hits = r.hits.map(scrubbed)
            results = r
        }
        if let c = customer?.value, erased[c.customerId] != nil || erased[c.requestedId] != nil {
            customer = nil
        }
        // The queue's pairs of an erased customer name records that no longer exist.
        review = review?.filter { item in [item.customerA, item.customerB].allSatisfy { $0.map { erased[$0] == nil } ?? true } }
        // The waterfall holds both records' values: read again only if its pair is still wanted.
        if !newly.isEmpty { explanation = nil }
        return newly
    }

    /// A result row of an erased customer keeps only its id and rank.
    func scrubbed(_ hit: CustomerSearch.Hit) -> CustomerSearch.Hit {
        guard erased[hit.customerId] != nil else { return hit }
        var h = hit
        h.name = ""; h.email = nil; h.phone = nil; h.city = nil
        return h
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
            results = Results(query: q, hits: found.map(scrubbed), milliseconds: ms)
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
            // Asked for before an erasure that is known by now: not kept.
            guard erased[id] == nil, erased[c.customerId] == nil else { return nil }
            customer = Loaded(generation: generation, value: c)
        case .erasedOnLoad(let id, let at):
            inFlight.remove("load")
            forgetErased([id: at])
        case .explained(let e):
            inFlight.remove("explain")
            // Only the pair still selected is kept (the other may be of a customer erased meanwhile).
            guard let p = selectedPair, p.a == e.a, p.b == e.b else { return nil }
            explanation = Loaded(generation: generation, value: e)
        case .review(let items):
            inFlight.remove("review")
            review = items
        case .revealed(let ids, let actor):
            inFlight.remove("reveal")
            // Only what is still selected is shown; moving on masks again.
            revealed = Set(ids).intersection(selectedCustomers)
            return ("PII of \(ids.sorted().joined(separator: " and ")) revealed — audited as \(actor); v masks it again", false)
        case .revealRefused(let found):
            inFlight.remove("reveal")
            forgetErased(found)
            return (Self.refusal(found.keys.sorted()), true)
        case .erasures(let latest, let found):
            inFlight.remove("erasures")
            // Someone was erased: the customer count changed, whether or not they are shown here.
            if let seen = latestErasure, seen != latest { refreshing.insert("summary") }
            latestErasure = latest
            let newly = forgetErased(found).keys.sorted()
            guard !newly.isEmpty else { return nil }
            return ("\(newly.joined(separator: " and ")) \(newly.count == 1 ? "was" : "were") erased on request (steward forget): nothing of \(newly.count == 1 ? "it" : "them") is shown any more", false)
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
            // Asked again after the next refresh.
            case .erasures: break
            default: failures[request.key] = message
            }
        }
        return nil
    }

    /// The one line `v` answers with on an erased customer.
    static func refusal(_ ids: [String]) -> String {
        "not revealed: \(ids.joined(separator: " and ")) \(ids.count == 1 ? "was" : "were") erased on request (steward forget); there is nothing to reveal"
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
