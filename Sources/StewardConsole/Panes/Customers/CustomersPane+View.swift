import Foundation
import StewardCatalog
import StewardConfig
import StewardIdentity

/// Drawing the Customers pane: the search box and results, the 360's sub-tabs, the review queue,
/// and the waterfall of the selected pair. PII goes through `shown`, which masks unless revealed.
extension CustomersPane {
    public func render(_ area: Rect, _ ctx: PaneContext, searchFocused: Bool, into buffer: inout ScreenBuffer) {
        switch view {
        case .search: renderSearch(area, ctx, focused: searchFocused, into: &buffer)
        case .customer: renderCustomer(area, ctx, into: &buffer)
        case .review: renderReview(area, ctx, into: &buffer)
        }
    }

    func shown(_ value: String?, _ attribute: String, of customer: String?) -> String {
        // The project's one masking step (PIIPolicy), so the console masks exactly as the CLI does.
        PIIPolicy.display(value, field: attribute, reveal: customer.map(revealed.contains) ?? false) ?? ""
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
        } else if !Self.searchable(q) {
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
        if let hit = selectedHit, message.isEmpty, let at = erased[hit.customerId] {
            let line: Line = [Span(hit.customerId, theme.accent), Span(" erased on request \(at) ", theme.warn),
                              Span("(steward forget): nothing of this customer is kept or shown", theme.muted)]
            buffer.write(line, x: detail.x, y: detail.y + 1, maxWidth: detail.width, base: theme.text)
        } else if let hit = selectedHit, message.isEmpty {
            // Revealed, the values are shown whole here (the table's columns may cut a long email).
            let values = revealed.contains(hit.customerId)
                ? [shown(hit.email, "email", of: hit.customerId), shown(hit.phone, "phone", of: hit.customerId)].filter { !$0.isEmpty }.map { Span("\($0)  ") }
                : [Span("Enter opens the 360  ", theme.muted)]
            let line: Line = [Span(hit.customerId, theme.accent), Span(" \(hit.name)  ", theme.title)] + values
                + revealLine([hit.customerId], theme: theme)
            buffer.write(line, x: detail.x, y: detail.y + 1, maxWidth: detail.width, base: theme.text)
        }
    }

    func resultColumns(_ theme: Theme) -> [Column<CustomerSearch.Hit>] {
        [
            Column("rank", "#", .fixed(3), .right) { [Span("\($0.rank)", theme.muted)] },
            Column("id", "Customer", .fixed(9)) { [Span($0.customerId, theme.accent)] },
            Column("name", "Name", .fill(14)) { erased[$0.customerId] == nil ? [Span($0.name, theme.title)] : [Span("erased", theme.warn)] },
            Column("email", "Email", .fill(16), priority: 1) { [Span(shown($0.email, "email", of: $0.customerId))] },
            Column("phone", "Phone", .fixed(15)) { [Span(shown($0.phone, "phone", of: $0.customerId))] },
            Column("city", "City", .fixed(12), priority: 2) { [Span($0.city ?? "", theme.muted)] },
        ]
    }

    func renderCustomer(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let layout = Self.layout(area, view: .customer)
        let id = openId ?? ""
        if let at = erased[id] ?? openCustomer.flatMap({ erased[$0.customerId] }) {
            Block(title: [Span("Customer ", theme.title), Span(id, theme.accent), Span(" erased ", theme.warn), Span("— Esc back ", theme.muted)],
                  style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
            TextBlock.render([[Span("Erased on request \(at) (steward forget).", theme.warn)],
                              [Span("Nothing of this customer is kept in the catalog or shown here; there is nothing to reveal.", theme.muted)]],
                             Rect(x: layout.info.x, y: layout.info.y, width: layout.info.width, height: area.height - 2),
                             base: theme.text, into: &buffer)
            return
        }
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
                c.score.map { score in
                    [Span("Segment   ", theme.muted), Span(score.segment),
                     Span("   RFM ", theme.muted), Span([score.r, score.f, score.m].map { $0.map(String.init) ?? "–" }.joined(separator: "/")),
                     Span("   churn risk ", theme.muted), Span(score.churnScore.map { String(format: "%.0f%%", $0 * 100) } ?? "–")]
                } ?? [Span("Segment   ", theme.muted), Span("not scored yet (the next run scores customers)", theme.muted)],
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
            renderWaterfall(rest, ctx, revealA: reveal, revealB: reveal, into: &buffer)
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
            Column("why", "Why", .fixed(14), priority: 1) { [Span(Self.reviewReason($0), theme.muted)] },
            Column("decision", "Decision", .fixed(17)) { i in
                switch (i.decision, i.applied) {
                case ("accept", false): return [Span("✓ accept·next run", theme.ok)]
                case ("reject", false): return [Span("✗ reject·next run", theme.error)]
                case ("accept", true): return [Span("▲ accepted, apart", theme.warn)]
                default: return [Span("? undecided", theme.muted)]
                }
            },
        ]
        Columns.table(cols, rows: items, width: table.width, sort: SortState(), theme: theme).render(table, state: reviewList, into: &buffer)
        let item = selectedReviewItem
        var detail = layout.detail
        if let item, detail.height > 2 {
            // Why the selected pair is here, in one line (the Why column's word, explained; `?` has more).
            buffer.write([Span("Why: ", theme.title), Span(Self.reviewExplanation(item), theme.text)], x: detail.x, y: detail.y,
                         maxWidth: detail.width, base: theme.text)
            detail = Rect(x: detail.x, y: detail.y + 1, width: detail.width, height: detail.height - 1)
        }
        renderWaterfall(detail, ctx, revealA: item?.customerA.map(revealed.contains) ?? false,
                        revealB: item?.customerB.map(revealed.contains) ?? false, into: &buffer)
    }

    /// The Why column: `review band` (the model was unsure) or `chaining guard` (kept apart above the threshold).
    static func reviewReason(_ item: ReviewQueue.Item) -> String { item.status == "review" ? "review band" : "chaining guard" }

    /// The selected pair's reason in one line, and what a decision on it does.
    static func reviewExplanation(_ item: ReviewQueue.Item) -> String {
        let p = String(format: "%.3f", item.probability)
        let why = item.status == "review"
            ? "scored \(p), inside the review band (below the match threshold): the model was unsure"
            : "scored \(p), above the match threshold, yet the chaining guard kept the two customers apart (joining would pass their size cap, or their other records disagree)"
        switch (item.decision, item.applied) {
        case ("accept", false): return why + "; accepted: joined on the next run"
        case ("reject", false): return why + "; rejected: kept apart from the next run, then it leaves the queue"
        case ("accept", true): return why + "; accepted before the last run, yet still apart: the guard held"
        default: return why + "; a accepts, x rejects"
        }
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
