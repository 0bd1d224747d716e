import Foundation
import StewardPipeline

/// Opens the console; nil when it cannot run here (no terminal).
enum ConsoleLauncher {
    static func launch(config: ProjectConfig, theme: String?, readOnly: Bool) throws -> Int32? {
        nil
    }
}
