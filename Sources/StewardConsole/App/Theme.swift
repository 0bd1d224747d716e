import Foundation
import StewardCatalog
import Yams

/// The named styles every view draws with. Loaded from `themes/NAME.yml`; missing entries fall back
/// to the built-in dark theme, so a user theme may override only what it cares about.
///
/// ```yaml
/// name: dark
/// styles:
///   text:     { fg: "#d0d0d0" }
///   selected: { fg: "#ffffff", bg: "#3a3f5a", attrs: [bold] }
/// ```
public struct Theme: Sendable, Equatable {
    public var name: String
    public var text = Style()
    public var muted = Style(fg: .ansi(8))
    public var accent = Style(fg: .ansi(14), attributes: .bold)
    public var title = Style(fg: .ansi(15), attributes: .bold)
    public var border = Style(fg: .ansi(8))
    public var borderFocused = Style(fg: .ansi(6))
    public var header = Style(fg: .ansi(15), bg: .indexed(236))
    public var headerAccent = Style(fg: .ansi(14), bg: .indexed(236), attributes: .bold)
    public var tabActive = Style(fg: .ansi(0), bg: .ansi(6), attributes: .bold)
    public var tabInactive = Style(fg: .ansi(7))
    public var tableHeader = Style(fg: .ansi(6), attributes: .bold)
    public var selected = Style(fg: .ansi(15), bg: .indexed(238), attributes: .bold)
    public var footer = Style(fg: .ansi(7), bg: .indexed(235))
    public var footerKey = Style(fg: .ansi(14), bg: .indexed(235), attributes: .bold)
    public var ok = Style(fg: .ansi(2))
    public var warn = Style(fg: .ansi(3))
    public var error = Style(fg: .ansi(9), attributes: .bold)
    public var running = Style(fg: .ansi(12))
    public var stale = Style(fg: .ansi(5))
    public var never = Style(fg: .ansi(8))
    public var gaugeFilled = Style(fg: .ansi(6))
    public var gaugeEmpty = Style(fg: .indexed(238))
    public var sparkline = Style(fg: .ansi(4))
    public var modal = Style(fg: .ansi(15), bg: .indexed(236))
    public var modalBorder = Style(fg: .ansi(14), bg: .indexed(236))
    public var input = Style(fg: .ansi(15))
    public var statusInfo = Style(fg: .ansi(2))
    public var statusError = Style(fg: .ansi(15), bg: .ansi(1), attributes: .bold)

    public init(name: String) { self.name = name }

    /// The built-in default, used when no theme file can be found.
    public static let builtinDark = Theme(name: "dark")

    /// Attributes-only styles for `NO_COLOR` and terminals without colour.
    public static var builtinMonochrome: Theme {
        var t = Theme(name: "monochrome")
        for key in Theme.keys { t[key] = Style() }
        t.muted = Style(attributes: .dim); t.accent = Style(attributes: .bold); t.title = Style(attributes: .bold)
        t.header = Style(attributes: .reverse); t.headerAccent = Style(attributes: [.reverse, .bold])
        t.tabActive = Style(attributes: [.reverse, .bold]); t.tableHeader = Style(attributes: [.bold, .underline])
        t.selected = Style(attributes: .reverse); t.footer = Style(attributes: .reverse)
        t.footerKey = Style(attributes: [.reverse, .bold]); t.error = Style(attributes: .bold)
        t.never = Style(attributes: .dim); t.gaugeEmpty = Style(attributes: .dim)
        t.modalBorder = Style(attributes: .bold); t.statusError = Style(attributes: [.reverse, .bold])
        return t
    }

    /// Every style name a theme file may set.
    public static let keys: [String] = [
        "text", "muted", "accent", "title", "border", "border_focused", "header", "header_accent",
        "tab_active", "tab_inactive", "table_header", "selected", "footer", "footer_key",
        "ok", "warn", "error", "running", "stale", "never", "gauge_filled", "gauge_empty", "sparkline",
        "modal", "modal_border", "input", "status_info", "status_error",
    ]

    public subscript(key: String) -> Style {
        get {
            switch key {
            case "text": return text
            case "muted": return muted
            case "accent": return accent
            case "title": return title
            case "border": return border
            case "border_focused": return borderFocused
            case "header": return header
            case "header_accent": return headerAccent
            case "tab_active": return tabActive
            case "tab_inactive": return tabInactive
            case "table_header": return tableHeader
            case "selected": return selected
            case "footer": return footer
            case "footer_key": return footerKey
            case "ok": return ok
            case "warn": return warn
            case "error": return error
            case "running": return running
            case "stale": return stale
            case "never": return never
            case "gauge_filled": return gaugeFilled
            case "gauge_empty": return gaugeEmpty
            case "sparkline": return sparkline
            case "modal": return modal
            case "modal_border": return modalBorder
            case "input": return input
            case "status_info": return statusInfo
            case "status_error": return statusError
            default: return text
            }
        }
        set {
            switch key {
            case "text": text = newValue
            case "muted": muted = newValue
            case "accent": accent = newValue
            case "title": title = newValue
            case "border": border = newValue
            case "border_focused": borderFocused = newValue
            case "header": header = newValue
            case "header_accent": headerAccent = newValue
            case "tab_active": tabActive = newValue
            case "tab_inactive": tabInactive = newValue
            case "table_header": tableHeader = newValue
            case "selected": selected = newValue
            case "footer": footer = newValue
            case "footer_key": footerKey = newValue
            case "ok": ok = newValue
            case "warn": warn = newValue
            case "error": error = newValue
            case "running": running = newValue
            case "stale": stale = newValue
            case "never": never = newValue
            case "gauge_filled": gaugeFilled = newValue
            case "gauge_empty": gaugeEmpty = newValue
            case "sparkline": sparkline = newValue
            case "modal": modal = newValue
            case "modal_border": modalBorder = newValue
            case "input": input = newValue
            case "status_info": statusInfo = newValue
            case "status_error": statusError = newValue
            default: break
            }
        }
    }

    /// The style for a health word: ok, warn, error, running, stale, never (anything else is text).
    public func status(_ word: String) -> Style {
        switch StatusLevel(word: word) {
        case .ok: return ok
        case .warn: return warn
        case .error: return error
        case .running: return running
        case .stale: return stale
        case .never: return never
        case .neutral: return text
        }
    }
}

public enum ThemeError: Error, CustomStringConvertible, Equatable {
    case notFound(String, known: [String])
    case invalid(file: String, message: String)

    public var description: String {
        switch self {
        case .notFound(let name, let known):
            // The known names, not the folders searched: one of those is where the binary was compiled.
            return "theme '\(name)' not found; themes: \(known.joined(separator: ", ")) (add your own as ~/.config/steward/themes/NAME.yml)"
        case .invalid(let file, let message):
            return "theme file \(file) is invalid: \(message)"
        }
    }
}

/// Finds and parses theme files.
///
/// Search order for a name: the user's `$XDG_CONFIG_HOME/steward/themes/NAME.yml`, then the repo's
/// `themes/` (`STEWARD_THEMES_DIR`, else found by walking up from this source file, else next to the
/// executable).
public struct ThemeLibrary: Sendable {
    public var directories: [URL]

    public init(directories: [URL]) { self.directories = directories }

    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ThemeLibrary {
        var dirs: [URL] = []
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
        if let config = environment["XDG_CONFIG_HOME"].flatMap({ $0.isEmpty ? nil : URL(fileURLWithPath: $0) })
            ?? home?.appendingPathComponent(".config") {
            dirs.append(config.appendingPathComponent("steward/themes"))
        }
        if let repo = repoThemesDirectory(environment: environment) { dirs.append(repo) }
        return ThemeLibrary(directories: dirs)
    }

    static func repoThemesDirectory(environment: [String: String]) -> URL? {
        let fm = FileManager.default
        if let dir = environment["STEWARD_THEMES_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            let candidate = url.appendingPathComponent("themes")
            if fm.fileExists(atPath: candidate.appendingPathComponent("dark.yml").path) { return candidate }
            url.deleteLastPathComponent()
        }
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            let candidate = exe.appendingPathComponent("themes")
            if fm.fileExists(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Names of all themes found, sorted, for `:theme` completion.
    public func names() -> [String] {
        var names = Set(["dark", "monochrome"])
        for dir in directories {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            where file.hasSuffix(".yml") || file.hasSuffix(".yaml") {
                names.insert(String(file.prefix(upTo: file.lastIndex(of: ".")!)))
            }
        }
        return names.sorted()
    }

    public func load(_ name: String) throws -> Theme {
        for dir in directories {
            for ext in ["yml", "yaml"] {
                let url = dir.appendingPathComponent("\(name).\(ext)")
                if FileManager.default.fileExists(atPath: url.path) { return try Self.parse(contentsOf: url) }
            }
        }
        if name == "dark" { return .builtinDark }
        if name == "monochrome" { return .builtinMonochrome }
        throw ThemeError.notFound(name, known: names())
    }

    public static func parse(contentsOf url: URL) throws -> Theme {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ThemeError.invalid(file: url.path, message: error.localizedDescription)
        }
        return try parse(text, file: url.path, defaultName: url.deletingPathExtension().lastPathComponent)
    }

    public static func parse(_ yaml: String, file: String, defaultName: String) throws -> Theme {
        let root: Any?
        do { root = try Yams.load(yaml: yaml) } catch { throw ThemeError.invalid(file: file, message: "\(error)") }
        guard let dict = root as? [String: Any] else { throw ThemeError.invalid(file: file, message: "expected a mapping at the top") }
        let base = (dict["base"] as? String) == "monochrome" ? Theme.builtinMonochrome : Theme.builtinDark
        var theme = base
        theme.name = dict["name"] as? String ?? defaultName
        guard let styles = dict["styles"] as? [String: Any] else { return theme }
        for (key, value) in styles {
            guard Theme.keys.contains(key) else {
                throw ThemeError.invalid(file: file, message: "unknown style '\(key)' (known: \(Theme.keys.joined(separator: ", ")))")
            }
            guard let spec = value as? [String: Any] else {
                throw ThemeError.invalid(file: file, message: "style '\(key)' must be a mapping like { fg: \"#ffffff\", attrs: [bold] }")
            }
            var style = Style()
            if let fg = spec["fg"] {
                guard let c = Color(spec: "\(fg)") else { throw ThemeError.invalid(file: file, message: "\(key).fg: unknown colour '\(fg)'") }
                style.fg = c
            }
            if let bg = spec["bg"] {
                guard let c = Color(spec: "\(bg)") else { throw ThemeError.invalid(file: file, message: "\(key).bg: unknown colour '\(bg)'") }
                style.bg = c
            }
            for attr in spec["attrs"] as? [Any] ?? [] {
                guard let a = TextAttributes(name: "\(attr)") else {
                    throw ThemeError.invalid(file: file, message: "\(key).attrs: unknown attribute '\(attr)' (bold, dim, underline, reverse, italic)")
                }
                style.attributes.insert(a)
            }
            theme[key] = style
        }
        return theme
    }
}
