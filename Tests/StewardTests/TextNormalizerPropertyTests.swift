import Foundation
import Testing
import StewardDemo
@testable import StewardPipeline

/// `TextNormalizer.clean` writes UTF-8 bytes and asks only non-ASCII scalars for their properties.
/// It must give exactly what the definition gives: every White_Space scalar is a separator, runs
/// collapse to one space, the ends are trimmed, BOM and zero-width space vanish, the result is NFC.
@Suite("TextNormalizer.clean: seeded property test against its definition")
struct TextNormalizerPropertyTests {
    /// The definition, scalar by scalar, with no fast path.
    static func reference(_ s: String) -> String? {
        var words: [String] = [], word = String.UnicodeScalarView()
        for u in s.unicodeScalars where u.value != 0xFEFF && u.value != 0x200B {
            if u.properties.isWhitespace {
                if !word.isEmpty { words.append(String(word)); word = String.UnicodeScalarView() }
            } else {
                word.append(u)
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words.isEmpty ? nil : words.joined(separator: " ").precomposedStringWithCanonicalMapping
    }

    static func cleaned(_ s: String) -> String? {
        switch TextNormalizer.clean(s) {
        case .none: return nil
        case .ascii(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .unicode(let text): return text
        }
    }

    /// Every White_Space scalar, ASCII letters and digits, Latin-1 and other letters, a combining
    /// accent (so NFC has work to do), General Punctuation, BOM, zero-width space, CJK and an emoji.
    static let alphabet: [Unicode.Scalar] = {
        let white: [UInt32] = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
                               0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
        let other: [UInt32] = [0x61, 0x5A, 0x30, 0x2D, 0x27, 0xE9, 0xC9, 0xDF, 0x131, 0x301, 0x2019, 0x2013, 0x2026,
                               0xFEFF, 0x200B, 0x4E2D, 0x1F600, 0x65, 0x6E, 0x7E]
        return (white + other).compactMap(Unicode.Scalar.init)
    }()

    @Test func agreesWithTheDefinitionOnSeededStrings() {
        var rng = SplitMix64(state: 1_521)
        var compared = 0, unicode = 0
        for _ in 0..<20_000 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int(rng.next() % 12) { s.append(Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))]) }
            let text = String(s)
            #expect(Self.cleaned(text) == Self.reference(text), "clean(\(text.unicodeScalars.map { String($0.value, radix: 16) }))")
            compared += 1
            if case .unicode? = TextNormalizer.clean(text) { unicode += 1 }
        }
        // The strings reach the non-ASCII path, not only the byte loop.
        #expect(compared == 20_000 && unicode > 5_000)
    }

    @Test func knownCases() {
        #expect(Self.cleaned("\u{FEFF}  Zoë\u{2003}\u{A0}Smith\u{3000}") == "Zoë Smith")
        #expect(Self.cleaned("e\u{301}\tx") == "é x")
        #expect(Self.cleaned("\u{200B}\u{85}") == nil)
        #expect(Self.cleaned("a\u{2028}\u{2029}b") == "a b")
    }
}
