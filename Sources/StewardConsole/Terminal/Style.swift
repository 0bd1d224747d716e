/// Colours and text attributes of one cell, independent of any terminal.
///
/// Views speak in `Style`s taken from the theme; the terminal backend maps each `Color` to what the
/// terminal can show (256 colours, 8 colours, or none under `NO_COLOR`).
public enum Color: Hashable, Sendable {
    /// The terminal's own foreground or background.
    case `default`
    /// One of the 16 ANSI colours (0–7 normal, 8–15 bright).
    case ansi(UInt8)
    /// An xterm 256-colour palette index.
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    /// Parses `default`, `#rrggbb`, a palette number `0…255`, or an ANSI name (`red`, `bright-blue`).
    public init?(spec: String) {
        let s = spec.trimmingCharacters(in: .whitespaces).lowercased()
        if s == "default" || s == "none" || s.isEmpty { self = .default; return }
        if s.hasPrefix("#"), s.count == 7, let v = UInt32(s.dropFirst(), radix: 16) {
            self = .rgb(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)); return
        }
        if let n = Int(s), (0...255).contains(n) { self = .indexed(UInt8(n)); return }
        let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
        var name = s.replacingOccurrences(of: "_", with: "-")
        var bright = false
        if name.hasPrefix("bright-") { bright = true; name.removeFirst(7) }
        else if name.hasPrefix("bright") { bright = true; name.removeFirst(6) }
        if name == "gray" || name == "grey" { self = .ansi(bright ? 7 : 8); return }
        guard let i = names.firstIndex(of: name) else { return nil }
        self = .ansi(UInt8(i + (bright ? 8 : 0)))
    }

    /// The colour as RGB (palette entries use xterm's default values); nil for `.default`.
    public var rgbValue: (UInt8, UInt8, UInt8)? {
        switch self {
        case .default: return nil
        case .rgb(let r, let g, let b): return (r, g, b)
        case .ansi(let n): return Color.ansiRGB[Int(n & 15)]
        case .indexed(let n):
            if n < 16 { return Color.ansiRGB[Int(n)] }
            if n >= 232 { let v = UInt8(8 + 10 * Int(n - 232)); return (v, v, v) }
            let i = Int(n) - 16
            return (Color.cubeLevels[i / 36], Color.cubeLevels[i / 6 % 6], Color.cubeLevels[i % 6])
        }
    }

    /// Nearest xterm-256 palette index (cube or grey ramp), for 256-colour terminals.
    public var palette256: Int {
        switch self {
        case .default: return -1
        case .ansi(let n): return Int(n & 15)
        case .indexed(let n): return Int(n)
        case .rgb(let r, let g, let b):
            func level(_ v: UInt8) -> Int {
                var best = 0
                for (i, l) in Color.cubeLevels.enumerated() where abs(Int(l) - Int(v)) < abs(Int(Color.cubeLevels[best]) - Int(v)) { best = i }
                return best
            }
            let (ri, gi, bi) = (level(r), level(g), level(b))
            let cube = 16 + 36 * ri + 6 * gi + bi
            let cubeRGB = (Color.cubeLevels[ri], Color.cubeLevels[gi], Color.cubeLevels[bi])
            let avg = (Int(r) + Int(g) + Int(b)) / 3
            let greyIndex = max(0, min(23, (avg - 8 + 5) / 10))
            let grey = UInt8(8 + 10 * greyIndex)
            return Color.distance((r, g, b), cubeRGB) <= Color.distance((r, g, b), (grey, grey, grey)) ? cube : 232 + greyIndex
        }
    }

    /// Nearest of the 8 basic colours, for 8-colour terminals.
    public var palette8: Int {
        guard let rgb = rgbValue else { return -1 }
        if case .ansi(let n) = self { return Int(n & 7) }
        var best = 0, bestDistance = Int.max
        for i in 0..<8 {
            let d = Color.distance(rgb, Color.ansiRGB[i])
            if d < bestDistance { best = i; bestDistance = d }
        }
        return best
    }

    static let cubeLevels: [UInt8] = [0, 95, 135, 175, 215, 255]
    static let ansiRGB: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    static func distance(_ a: (UInt8, UInt8, UInt8), _ b: (UInt8, UInt8, UInt8)) -> Int {
        // Weighted Euclidean: the eye is most sensitive to green, least to blue.
        let dr = Int(a.0) - Int(b.0), dg = Int(a.1) - Int(b.1), db = Int(a.2) - Int(b.2)
        return 3 * dr * dr + 4 * dg * dg + 2 * db * db
    }
}

import Foundation

public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let underline = TextAttributes(rawValue: 4)
    public static let reverse = TextAttributes(rawValue: 8)
    public static let italic = TextAttributes(rawValue: 16)

    public init?(name: String) {
        switch name.lowercased() {
        case "bold": self = .bold
        case "dim": self = .dim
        case "underline": self = .underline
        case "reverse": self = .reverse
        case "italic": self = .italic
        default: return nil
        }
    }
}

public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var attributes: TextAttributes

    public init(fg: Color = .default, bg: Color = .default, attributes: TextAttributes = []) {
        self.fg = fg; self.bg = bg; self.attributes = attributes
    }

    public static let plain = Style()

    /// This style with `other`'s colours where they are not `.default`, and both attribute sets.
    public func patched(_ other: Style) -> Style {
        Style(fg: other.fg == .default ? fg : other.fg, bg: other.bg == .default ? bg : other.bg,
              attributes: attributes.union(other.attributes))
    }

    public func with(_ attributes: TextAttributes) -> Style {
        var s = self; s.attributes.formUnion(attributes); return s
    }
}

/// A run of text in one style; a `Line` is a sequence of spans.
public struct Span: Hashable, Sendable {
    public var text: String
    public var style: Style
    public init(_ text: String, _ style: Style = .plain) { self.text = text; self.style = style }
}

public typealias Line = [Span]

extension Array where Element == Span {
    public var plainText: String { map(\.text).joined() }
    public var displayWidth: Int { reduce(0) { $0 + $1.text.displayWidth } }
}
