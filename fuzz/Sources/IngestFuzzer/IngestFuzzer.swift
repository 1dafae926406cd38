import IngestProperties
import LibFuzzerDriver

/// libFuzzer's callback: the bytes are a CSV file's contents. A violated
/// property stops the process with `fatalError`, so libFuzzer records the
/// input as a crash; AddressSanitizer catches memory errors.
@_cdecl("LLVMFuzzerTestOneInput")
public func ingestFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  IngestProperties.check(UnsafeBufferPointer(start: data, count: size))
  return 0
}

/// The program's entry point. SwiftPM links an executable module `M` with
/// `main` defined as `M_main` (so tests can link the module), and this module
/// is parsed as a library so that Swift emits no `main` of its own: libFuzzer
/// parses the command line and runs the callback.
@_cdecl("IngestFuzzer_main")
func ingestFuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { ingestFuzzerTestOneInput($0, $1) }
}
