// swift-tools-version:6.3
import PackageDescription

// Micro-benchmarks of Koi's kernels with ordo-one/benchmark: a nested package
// so the core build and `swift test` never compile it (its first release build
// takes several minutes). Run from this directory:
//
//     swift package --disable-sandbox benchmark
//
// Only Koi's public API is used (no @testable); see benchmarks/README.md for
// which entry point stands for which kernel.
let package = Package(
  name: "KoiMicroBenchmarks",
  platforms: [.macOS(.v13)],
  products: [.executable(name: "LloydPass", targets: ["LloydPass"])],
  dependencies: [
    .package(name: "Koi", path: "../.."),
    // Traits go on the dependency: MallocInterposer gives the malloc metrics;
    // naming the traits also leaves out the default RuntimeInterposer (its
    // package, ordo-one/swift-runtime-interposer, is not mirrored here).
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    // One Lloyd pass of Koi's k-means kernel, for the memory-bandwidth floor
    // in benchmarks/bench.py (`swift build -c release --product LloydPass`
    // builds it without the benchmark package).
    .executableTarget(
      name: "LloydPass",
      dependencies: [.product(name: "Koi", package: "Koi")],
      swiftSettings: [.swiftLanguageMode(.v5)]
    ),
    .executableTarget(
      name: "KoiKernels",
      dependencies: [
        .product(name: "Koi", package: "Koi"),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/KoiKernels",
      swiftSettings: [.swiftLanguageMode(.v5)],
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
  ]
)
