// swift-tools-version:6.0
import PackageDescription

// Koi: customer segmentation and lifetime value for clinic chains.
//
// Language mode 5: the hot loops hand unsafe buffers to
// `DispatchQueue.concurrentPerform`, which Swift 6's strict concurrency
// checking rejects without `nonisolated(unsafe)` noise on every buffer; the
// parallel code is kept data-race free by construction (disjoint chunks).
let package = Package(
  name: "Koi",
  products: [
    .library(name: "Koi", targets: ["Koi"]),
    .executable(name: "koi", targets: ["koi"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    // `koi report`: the HTML page is a Mustache template kept as a string
    // constant (nothing to ship beside the binary); values are escaped by it.
    .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    // Reading .xlsx workbooks: the zip container (the sheet XML is streamed
    // in chunks through `Archive.extract(_:consumer:)`).
    .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
  ],
  targets: [
    // MARK: - Public API
    .target(
      name: "Koi",
      dependencies: [
        "CBLAS",
        "CByteMasks",
        "CLAPACKE",
        "CLibZ",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "RealModule", package: "swift-numerics"),
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
        .product(name: "Mustache", package: "swift-mustache"),
        .product(name: "TOMLKit", package: "TOMLKit"),
        .product(name: "ZIPFoundation", package: "ZIPFoundation"),
      ],
      // Optimised in debug builds too, with `assert` still checked: the
      // tests are a debug build, and most of their time is Koi's own code
      // (`swift test --parallel` 625 s unoptimised, 80 s optimised, one
      // after the other on 2 cores, 2026-12-06); the fuzz target builds in
      // debug mode for the same reason (fuzz/run.sh). To step through Koi
      // in a debugger, remove the `-O` here.
      swiftSettings: [.unsafeFlags(["-O", "-assert-config", "Debug"], .when(configuration: .debug))]
    ),
    .executableTarget(
      name: "koi",
      dependencies: [
        "Koi",
        "CMalloc",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: - Implementation details
    .systemLibrary(
      name: "CBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]
    ),
    .systemLibrary(
      name: "CLAPACKE",
      pkgConfig: "lapacke",
      providers: [.apt(["liblapacke-dev"])]
    ),

    // `.csv.gz` input, inflated as it is read.
    .systemLibrary(
      name: "CLibZ",
      pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]
    ),

    // SSE2 byte masks for the CSV split (Sources/Koi/Ingest/CSVRecord.swift):
    // header-only, so Swift inlines them.
    .target(name: "CByteMasks"),

    // glibc's `mallopt` for the command-line tool (Sources/koi/Allocator.swift).
    .systemLibrary(name: "CMalloc"),

    // MARK: - Tests
    .testTarget(
      name: "KoiTests",
      dependencies: ["Koi", .product(name: "GRDB", package: "GRDB.swift")],
      resources: [.copy("Fixtures")]
    ),
  ],
  swiftLanguageModes: [.v5]
)
