import Foundation
import Testing
import StewardConfig
@testable import StewardIdentity
@testable import StewardServer

/// `GET /v1/customers?q=` writes its body over bytes (`APIBodies.searchJSON`): it must be the very
/// bytes JSONSerialization gives the CLI's shape (`APIBodies.search`, sorted keys), whatever the values hold.
@Suite struct SearchBodyTests {
    /// Every ASCII character (controls, quote, backslash, slash, DEL) and some that are not.
    static let awkward: String = {
        var s = ""
        for c in 0..<0x80 { s.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        return s + "é Zoë \u{2028}\u{2029} 😀 \u{FEFF} 東京 a/b \\\" \u{0}"
    }()

    static func hit(_ id: String, name: String, email: String?, phone: String?, city: String?, rank: Int) -> CustomerSearch.Hit {
        CustomerSearch.Hit(customerId: id, name: name, email: email, phone: phone, city: city, rank: rank, score: 1.5)
    }

    static let hits = [
        hit("C00000001", name: "John \"Jack\" O'Neil", email: "john.oneil@example.com", phone: "+1 (555) 123-4567", city: "Boston", rank: 1),
        hit("C00000002", name: awkward, email: awkward + "@example.org", phone: awkward, city: awkward, rank: 2),
        hit("C00000003", name: "", email: nil, phone: nil, city: nil, rank: 3),
        hit("C\u{8}\u{C}\t\n\r", name: "back\\slash / tab\there", email: "a\"b@c.d", phone: "12", city: "Zürich", rank: 1_000),
    ]

    @Test func bytesAreJSONSerializationsMaskedAndRevealed() {
        for reveal in [false, true] {
            for hits in [[], Array(Self.hits.prefix(1)), Self.hits] {
                let expected = APIBodies.encode(APIBodies.search(hits, reveal: reveal))
                let written = APIBodies.searchJSON(hits, reveal: reveal)
                #expect(written == expected, "reveal \(reveal), \(hits.count) hits:\n\(String(decoding: written, as: UTF8.self))\n\(String(decoding: expected, as: UTF8.self))")
            }
        }
    }

    @Test func everyControlCharacterIsEscapedAsJSONSerializationDoes() {
        for c in 0..<0x20 {
            let s = "x" + String(Unicode.Scalar(UInt8(c))) + "y"
            let hits = [Self.hit("C1", name: s, email: nil, phone: nil, city: s, rank: 1)]
            #expect(APIBodies.searchJSON(hits, reveal: true) == APIBodies.encode(APIBodies.search(hits, reveal: true)), "character \(c)")
        }
    }

    @Test func maskedBodyHidesWhatTheRevealedOneShows() throws {
        let hits = [Self.hits[0]]
        let masked = try #require(JSONSerialization.jsonObject(with: APIBodies.searchJSON(hits, reveal: false)) as? [[String: Any]])
        let revealed = try #require(JSONSerialization.jsonObject(with: APIBodies.searchJSON(hits, reveal: true)) as? [[String: Any]])
        #expect(revealed.first?["email"] as? String == "john.oneil@example.com")
        #expect(masked.first?["email"] as? String != "john.oneil@example.com")
        #expect(masked.first?["email"] as? String == Mask.email("john.oneil@example.com"))
        #expect(masked.first?["phone"] as? String == Mask.phone("+1 (555) 123-4567"))
    }
}
