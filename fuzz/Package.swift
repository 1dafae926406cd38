// swift-tools-version:6.0
import PackageDescription

// A coverage-guided fuzz target for Koi's ingest path (issue 13, "Keep it
// so"). A nested package, like a benchmark package, so the main build and
// `swift test` never compile it; `run.sh` builds it in debug mode (Koi itself
// is optimised there, see its Package.swift) with
// `-sanitize=fuzzer,address` and runs it.
let package = Package(
  name: "KoiFuzz",
  dependencies: [
    .package(name: "Koi", path: "..")
  ],
  targets: [
    // MARK: - Fuzz targets

    // The fuzzer: exports `LLVMFuzzerTestOneInput` and hands it to
    // libFuzzer's driver (linked by `-sanitize=fuzzer`). Parsed as a library:
    // its entry point is the `IngestFuzzer_main` SwiftPM links as `main`.
    .executableTarget(
      name: "IngestFuzzer",
      dependencies: ["IngestProperties", "LibFuzzerDriver"],
      swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    ),

    // MARK: - Implementation details

    // What every input must satisfy (fuzz/README.md).
    .target(
      name: "IngestProperties",
      dependencies: [.product(name: "Koi", package: "Koi")]
    ),
    // `LLVMFuzzerRunDriver`, declared for Swift.
    .target(name: "LibFuzzerDriver"),
  ],
  swiftLanguageModes: [.v5]
)
