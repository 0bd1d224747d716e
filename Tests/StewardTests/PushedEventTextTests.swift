import Foundation
import Testing
@testable import StewardPipeline

/// A pushed event's canonical text (what a re-sent event is recognised by) is written directly for
/// flat events of strings (issue 19): it must be JSONSerialization's bytes, or a re-send after an
/// upgrade would be staged as a changed event.
@Suite struct PushedEventTextTests {
    static func serialized(_ line: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    static let awkward: String = {
        var s = ""
        for c in 0..<0x80 { s.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        return s + "é Zoë \u{2028}\u{2029} 😀 \u{FEFF} 東京 a/b"
    }()

    static func jsonLine(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func flatStringEventsAreWrittenAsJSONSerializationWritesThem() throws {
        let lines = [
            #"{"event_id": "e1", "email": "bench1@example.org", "at": "2026-12-01T10:00:00Z", "kind": "page_view"}"#,
            #"{"kind":"x","a_b":"1","ab":"2","a":"3","_z":"4","z_":null,"url":"https://shop.example/a/b?c=d"}"#,
            #"{}"#,
            try Self.jsonLine(["event_id": Self.awkward, "note": "tab\there \"quoted\" back\\slash \u{8}\u{C}", "empty": ""]),
        ]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(PushedEvents.flatText(object) != nil, "the direct path: \(line)")
            let event = try #require(try PushedEvents.parse(Data(line.utf8)).events.first)
            #expect(event.text == (try Self.serialized(line)), "\(line)")
        }
    }

    @Test func otherEventsKeepJSONSerializationsText() throws {
        let lines = [
            #"{"event_id": "e1", "amount": 12.5, "count": 3, "flag": true, "none": false}"#,
            #"{"event_id": "e1", "Kind": "upper", "kind": "lower"}"#,
            #"{"line10": "a", "line9": "b", "line_1": "c"}"#,
            #"{"event_id": "e1", "items": [{"sku": "a"}, 2], "meta": {"b": "1", "a": null}}"#,
            #"{"émoji": "x", "e": "y", "f": "z"}"#,
        ]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(PushedEvents.flatText(object) == nil, "not the direct path: \(line)")
            let event = try #require(try PushedEvents.parse(Data(line.utf8)).events.first)
            #expect(event.text == (try Self.serialized(line)), "\(line)")
        }
    }
}
