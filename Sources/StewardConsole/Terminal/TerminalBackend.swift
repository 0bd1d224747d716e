import Foundation

/// The one thing that touches a terminal: draws frames, reads input, copies to the clipboard.
///
/// Two implementations: `NCursesBackend` for the real terminal, `TestBackend` in memory.
@MainActor
public protocol TerminalBackend: AnyObject {
    /// Current size in columns and rows.
    var size: (width: Int, height: Int) { get }
    /// Writes the cells of `buffer` that changed since the last frame, then shows them.
    func draw(_ buffer: ScreenBuffer)
    /// Waits up to `timeout` seconds for input; nil when none came.
    func poll(timeout: TimeInterval) -> InputEvent?
    /// Puts `text` on the clipboard of the terminal the user sits at (OSC 52, works over SSH).
    func copyToClipboard(_ text: String)
    /// Gives the terminal back in the state it was found.
    func shutdown()
}

/// In-memory terminal for tests: frames are kept, input is queued, the screen reads as text.
@MainActor
public final class TestBackend: TerminalBackend {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var screen: ScreenBuffer
    /// Cells written by the last `draw` (the diff), to prove only changes are sent.
    public private(set) var lastWrites: [CellChange] = []
    public private(set) var frames = 0
    public private(set) var clipboard: [String] = []
    public private(set) var isShutDown = false
    public var input: [InputEvent] = []

    public init(width: Int, height: Int) {
        self.width = width; self.height = height
        screen = ScreenBuffer(width: width, height: height)
    }

    public var size: (width: Int, height: Int) { (width, height) }

    public func draw(_ buffer: ScreenBuffer) {
        lastWrites = buffer.diff(from: frames == 0 ? nil : screen)
        if buffer.width != screen.width || buffer.height != screen.height {
            screen = ScreenBuffer(width: buffer.width, height: buffer.height)
        }
        for change in lastWrites { screen[change.x, change.y] = change.cell }
        screen.cursor = buffer.cursor
        frames += 1
    }

    public func poll(timeout: TimeInterval) -> InputEvent? { input.isEmpty ? nil : input.removeFirst() }

    public func copyToClipboard(_ text: String) { clipboard.append(text) }

    public func shutdown() { isShutDown = true }

    public func resize(width: Int, height: Int) {
        self.width = width; self.height = height
        input.append(.resize(width: width, height: height))
    }

    /// The screen as lines of text with trailing spaces removed.
    public var lines: [String] { screen.lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) } }
    public var text: String { lines.joined(separator: "\n") }
}
