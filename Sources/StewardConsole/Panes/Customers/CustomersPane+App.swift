import Foundation
import StewardIdentity

/// The Customers pane inside the app: keys, the search box, reveal and decisions, answers.
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
            else { customers.openOnArrival = CustomersPane.searchable(customers.trimmedQuery) }
        case .up, .down, .pageUp, .pageDown:
            let action: Action = key == .up ? .up : key == .down ? .down : key == .pageUp ? .pageUp : .pageDown
            _ = customers.handle(action, area: bodyArea)
        case .tab, .backTab:
            mode = .normal
            return perform(key == .tab ? .nextPane : .prevPane)
        case .ctrl("c"):
            return perform(.quit)
        case .char where customers.query.isFull:
            // The rest of a long paste: counted for the box's hint, nothing to ask the catalog.
            customers.query.handle(key)
            return []
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
            let gone = customers.selectedErased
            guard gone.isEmpty else {
                status = StatusMessage(text: CustomersPane.refusal(gone), isError: true, at: now)
                return []
            }
            let ids = customers.selectedCustomers
            guard !ids.isEmpty else {
                status = .refused("select a customer to reveal", at: now)
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
                status = .refused("open the review queue (R) and select a pair to accept or reject", at: now)
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
        // The Audiences pane reveals a member through the same audited request.
        if case .revealed(let ids, _) = reply { audiences.revealArrived(ids, context) }
        if let message = customers.apply(reply) {
            status = StatusMessage(text: message.text, isError: message.isError, at: now)
        }
        clampPanes()
        return customerCommands()
    }

    /// After every catalog refresh: whether a customer the pane holds was erased by another process.
    mutating func checkCustomerErasures() -> [Command] {
        customers.checkErasures() ? customerCommands() : []
    }

    /// After a run or `ctrl-r`: what the Customers pane shows is read again (if it was ever opened).
    mutating func refreshCustomers() -> [Command] {
        guard customers.summary != nil || !customers.failures.isEmpty else { return [] }
        customers.refresh()
        return customerCommands()
    }
}
