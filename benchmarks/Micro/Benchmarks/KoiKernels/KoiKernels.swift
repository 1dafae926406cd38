import Benchmark
import Foundation
import Koi

// Kernels and the public entry point that stands for each:
//
// | kernel                  | entry point                         | input                                  |
// |-------------------------|-------------------------------------|----------------------------------------|
// | CSV parse + ingest      | TransactionReader.read(path:)       | 100,000-row generated CSV (page cache) |
// | customer aggregation    | CustomerTable(ledger:asOfDay:)      | the ledger of that CSV                 |
// | tier features           | TierFeatureTable(ledger:table:)     | the same ledger                        |
// | lifetime summary        | LifetimeSummary(ledger:table:)      | the same ledger                        |
// | k-means assignment      | KMeans.assign(_:centroids:)         | 1,000,000 × 6 Float32, k = 4           |
// | BG/NBD log-likelihood   | BGNBD.logLikelihood (summed)        | 100,000 (x, t_x, T) triples            |
//
// The parser (ChunkParser), the row sort and the compressed BG/NBD likelihood
// are internal; the nearest public entry points above include them.

/// Fixtures built once, outside the measured region.
final class Fixtures: @unchecked Sendable {
  static let shared = Fixtures()
  let csvPath: String
  let csvBytes: Int
  let ledger: Ledger
  let table: CustomerTable
  let matrix: FeatureMatrix
  let centroids: Matrix
  let triples: [(x: Double, tx: Double, t: Double)]
  let bgnbd = BGNBDParameters(r: 0.8, alpha: 30, a: 0.9, b: 4)

  private init() {
    let dir = NSTemporaryDirectory() + "koi-micro-\(getpid())"
    var options = GeneratorOptions()
    options.customers = 14_700  // ≈ 100,000 rows
    options.seed = 1
    do {
      _ = try TransactionGenerator.generate(options, outputDirectory: dir)
      csvPath = dir + "/transactions.csv"
      csvBytes = (try FileManager.default.attributesOfItem(atPath: csvPath)[.size] as? Int) ?? 0
      var ingest = IngestOptions()
      ingest.asOfDay = DayNumber.from(year: 2026, month: 1, day: 1)
      let result = try TransactionReader.read(path: csvPath, options: ingest)
      ledger = result.ledger
      table = CustomerTable(ledger: ledger, asOfDay: result.asOfDay)
    } catch {
      fatalError("micro-benchmark fixture: \(error)")
    }

    var g = SeededGenerator(seed: 42)
    let n = 1_000_000, d = 6, k = 4
    var values = [Float](repeating: 0, count: n * d)
    for i in values.indices { values[i] = Float(g.normal()) }
    matrix = FeatureMatrix(count: n, featureCount: d, featureMajor: values)
    centroids = Matrix(rows: k, columns: d, values: (0..<(k * d)).map { _ in g.normal() })

    var t: [(x: Double, tx: Double, t: Double)] = []
    t.reserveCapacity(100_000)
    for _ in 0..<100_000 {
      let age = Double(30 + Int(g.uniform() * 700))
      let x = Double(Int(g.uniform() * 8))
      let tx = x == 0 ? 0 : max(1, (age * g.uniform()).rounded(.up))
      t.append((x, min(tx, age), age))
    }
    triples = t
  }
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, .throughput],
    timeUnits: .microseconds,
    warmupIterations: 1,
    maxDuration: .seconds(5),
    maxIterations: 50)

  let f = Fixtures.shared
  var ingest = IngestOptions()
  ingest.asOfDay = DayNumber.from(year: 2026, month: 1, day: 1)

  Benchmark("ingest: TransactionReader.read, 100k rows") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(try TransactionReader.read(path: f.csvPath, options: ingest).ledger.rowCount)
    }
  }

  Benchmark("aggregate: CustomerTable.init, 100k rows") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(CustomerTable(ledger: f.ledger, asOfDay: f.table.asOfDay).count)
    }
  }

  Benchmark("tiers: TierFeatureTable.init, 100k rows") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(TierFeatureTable(ledger: f.ledger, table: f.table).customerCount)
    }
  }

  Benchmark("lifetime: LifetimeSummary.init, 100k rows") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(LifetimeSummary(ledger: f.ledger, table: f.table).count)
    }
  }

  Benchmark("k-means: KMeans.assign, 1M x 6, k = 4") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(try KMeans.assign(f.matrix, centroids: f.centroids).inertia)
    }
  }

  Benchmark("bg/nbd: logLikelihood, 100k customers") { benchmark in
    for _ in benchmark.scaledIterations {
      var s = 0.0
      for c in f.triples { s += BGNBD.logLikelihood(f.bgnbd, x: c.x, tx: c.tx, t: c.t) }
      blackHole(s)
    }
  }
}
