// Nothing to compile: SwiftPM needs one source file in a C target. The
// declaration is in include/LibFuzzerDriver.h; the definition in libFuzzer.
