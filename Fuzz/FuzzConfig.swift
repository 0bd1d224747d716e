// libFuzzer target: the steward.yml loader. Either a config or a ConfigError (file, line, key):
// any other error type, a crash or a hang (libFuzzer's -timeout) is a finding.
import Foundation
import StewardConfig
import StewardPipeline

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let path = FuzzFile.write(bytes, name: "steward.yml")
    FuzzFile.ensure("a.csv", "id,name\n1,x\n")
    do { _ = try ConfigLoader.load(URL(fileURLWithPath: path)) } catch is ConfigError {} catch {
        fatalError("not a ConfigError: \(type(of: error)): \(error)")
    }
    return 0
}
