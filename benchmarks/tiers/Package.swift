// swift-tools-version:6.0
import PackageDescription

// Kernel crossover benchmark for Koi's k-means: a nested package so the core
// build never compiles it. Run: `cd benchmarks/tiers && swift run -c release KMeansBench`.
let package = Package(
  name: "KoiTiersBenchmarks",
  dependencies: [.package(name: "Koi", path: "../..")],
  targets: [
    .executableTarget(name: "KMeansBench", dependencies: [.product(name: "Koi", package: "Koi")]),
  ],
  swiftLanguageModes: [.v5]
)
