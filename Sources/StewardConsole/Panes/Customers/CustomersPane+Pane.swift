import Foundation

extension PaneID { public static let customers = PaneID(CustomersPane.self) }

extension AppState {
    public var customers: CustomersPane {
        get { self[CustomersPane.self] }
        set { self[CustomersPane.self] = newValue }
    }
}

/// Pane 6: customer search, the 360, Explain and the review queue. Its data comes from its own
/// requests (`CustomerRequest`), answered off the main actor, not from the snapshot.
extension CustomersPane: Pane {
    public static let title = "Customers"
    /// `/` is the search box here.
    public static var filters: Bool { false }

    public static var keys: [KeyBinding] {
        [KeyBinding(.search, [.char("/")], "search by name (any spelling), email, phone, postcode or id",
                    panes: [.customers], footer: true),
         KeyBinding(.reveal, [.char("v")], "reveal the selected customer's PII (audited); again masks it",
                    panes: [.customers], footer: true),
         KeyBinding(.review, [.char("R")], "review queue: unsure pairs, pairs kept apart (toggle)",
                    panes: [.customers], footer: true),
         KeyBinding(.accept, [.char("a")], "accept the pair as one customer (audited; next run)",
                    panes: [.customers], footer: true),
         KeyBinding(.reject, [.char("x")], "reject the pair: keep apart (audited; next run)",
                    panes: [.customers], footer: true)]
    }

    /// Why a pair is in the review queue, as its Why column says it.
    public static func helpNotes(_ theme: Theme) -> [Line] {
        [[],
         [Span("Review queue, Why column", theme.title)],
         [Span("review band ".padded(to: 14), theme.accent), Span("scored between review_low and the match threshold:")],
         [Span("".padded(to: 14)), Span("the model was unsure; a or x decides")],
         [Span("chaining guard".padded(to: 14), theme.accent), Span("scored above the threshold, yet kept apart: joining")],
         [Span("".padded(to: 14)), Span("the two customers would pass their size cap, or their")],
         [Span("".padded(to: 14)), Span("other records disagree (it guards against chaining)")],
         [Span("".padded(to: 14), theme.accent), Span("A decision applies on the next run; a reject it applied")],
         [Span("".padded(to: 14)), Span("leaves the queue, an accept joins the pair.")]]
    }

    public static var footerLabels: [Action: String] { [.nextSection: "sub-tab"] }
    /// Its own keys come before the global ones, so they fit at 80 columns.
    public static var footerOrder: [Action]? {
        [.help, .search, .open, .back, .nextSection, .reveal, .accept, .reject, .review, .command, .run, .quit, .copyID]
    }

    public var filter: String {
        get { query.text }
        set { query = InputLine(text: newValue) }
    }

    public static func update(_ app: inout AppState, _ action: Action) -> [Command] {
        action == .filter ? app.focusCustomerSearch() : app.customersAction(action)
    }

    public static func key(_ app: inout AppState, _ key: Key) -> [Command]? {
        app.mode == .search ? app.handleSearchKey(key) : nil
    }

    public static func click(_ app: inout AppState, x: Int, y: Int) -> [Command] {
        let area = app.bodyArea
        let (focus, _) = app.customers.click(x: x, y: y, area: area)
        return focus ? app.focusCustomerSearch() : app.customerCommands()
    }

    public static func shown(_ app: inout AppState) -> [Command] { app.customerCommands() }

    public static func snapshotArrived(_ app: inout AppState, ranSince: Bool) -> [Command] {
        // A run since the last snapshot may have matched customers anew: what the pane shows is read again.
        (ranSince ? app.refreshCustomers() : []) + app.checkCustomerErasures()
    }

    public static func refreshNow(_ app: inout AppState) -> [Command] { app.refreshCustomers() }

    /// PII shows only for the customers still selected in this pane; moving on masks it.
    public static func settle(_ app: inout AppState) {
        if app.pane == .customers {
            let selected = app.customers.selectedCustomers
            if !app.customers.revealed.isSubset(of: selected) { app.customers.revealed.formIntersection(selected) }
        } else if !app.customers.revealed.isEmpty {
            app.customers.revealed = []
        }
    }

    public func draw(_ area: Rect, _ app: AppState, into buffer: inout ScreenBuffer) {
        render(area, app.context, searchFocused: app.mode == .search, into: &buffer)
    }

    public mutating func clamp(_ ctx: PaneContext, area: Rect) { clamp(area: area) }
    public mutating func resetSelection() { list = ListState() }
    public func selectedID(_ ctx: PaneContext) -> String? { selectedID }
    public func offers(_ action: Action, _ app: AppState) -> Bool { offers(action) }

    /// A 360 asked for (Enter before the results came, or its load in flight): the next keys act on it.
    public func awaitingData(_ app: AppState) -> Bool {
        app.pane == .customers && (openOnArrival || inFlight.contains("load"))
    }
}
