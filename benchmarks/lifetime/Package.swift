// swift-tools-version:6.0
import PackageDescription

// Koi's side of the lifetime benchmark against the Python `lifetimes`
// package: a nested package so the core build never compiles it.
// Run everything with `python3 benchmarks/lifetime/compare.py` (see README.md).
let package = Package(
  name: "KoiLifetimeBenchmarks",
  dependencies: [.package(name: "Koi", path: "../..")],
  targets: [
    .executableTarget(name: "LifetimeBench", dependencies: [.product(name: "Koi", package: "Koi")]),
  ],
  swiftLanguageModes: [.v5]
)
