import Testing
@testable import StewardPipeline

@Suite struct FirstSeenTests {
    @Test func remembersTheFirstLineOfEveryValueAcrossGrowth() {
        var seen = FirstSeen()
        let values = (0..<50_000).map { "C\($0)" } + ["", "é", "a longer value than fifteen bytes, stored on the heap"]
        for (line, v) in values.enumerated() { #expect(seen.firstLine(of: v, at: line + 2) == nil, "\(v)") }
        #expect(seen.count == values.count)
        for (line, v) in values.enumerated().reversed() {
            #expect(seen.firstLine(of: v, at: 999_999) == line + 2, "\(v)")
        }
        #expect(seen.count == values.count)
        #expect(seen.firstLine(of: "C50000", at: 7) == nil)
    }
}
