/// How many terminal columns text takes: wide East Asian characters and emoji take 2, combining
/// marks and other zero-width scalars 0, everything else 1.
///
/// Our own table (rather than libc `wcwidth`) keeps layout identical in tests, where no UTF-8
/// locale is set, and in the terminal.
extension Character {
    public var displayWidth: Int {
        var width = 0
        for scalar in unicodeScalars {
            let w = scalar.displayWidth
            if scalar.value == 0xFE0F, width == 1 { return 2 } // emoji presentation selector
            if w > width { width = w }
        }
        return width
    }
}

extension Unicode.Scalar {
    public var displayWidth: Int {
        let v = value
        if v == 0 { return 0 }
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x300 { return 1 }
        switch properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v == 0x200B || (0x1160...0x11FF).contains(v) { return 0 }
        return Unicode.Scalar.isWide(v) ? 2 : 1
    }

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
             0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB,
             0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD,
             0x2705, 0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797,
             0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
             0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F64F,
             0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF,
             0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}

extension StringProtocol {
    public var displayWidth: Int { reduce(0) { $0 + $1.displayWidth } }
}

extension String {
    /// The longest prefix that fits in `width` columns, ending in `…` when cut.
    public func truncated(to width: Int, ellipsis: Bool = true) -> String {
        guard width > 0 else { return "" }
        if displayWidth <= width { return self }
        let budget = ellipsis ? width - 1 : width
        var out = "", used = 0
        for ch in self {
            let w = ch.displayWidth
            if used + w > budget { break }
            out.append(ch); used += w
        }
        return ellipsis ? out + "…" : out
    }

    /// Pads (or truncates) to exactly `width` columns.
    public func padded(to width: Int, alignment: Alignment = .left) -> String {
        let t = truncated(to: width)
        let gap = max(0, width - t.displayWidth)
        switch alignment {
        case .left: return t + String(repeating: " ", count: gap)
        case .right: return String(repeating: " ", count: gap) + t
        case .center: return String(repeating: " ", count: gap / 2) + t + String(repeating: " ", count: gap - gap / 2)
        }
    }
}

public enum Alignment: String, Sendable { case left, right, center }
