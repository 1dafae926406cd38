import Testing

@testable import Koi

/// The histogram kernels of `GradientBoostedTreesGrower` (g and h added as
/// one vector, counts counted or copied) against three scalar sums per bin
/// in row order, bit for bit.
@Suite struct GradientBoostedTreesHistogramTests {
  typealias Grower = GradientBoostedTreesGrower

  /// Per feature, (Σg, Σh, rows) per bin of the rows `order` (all rows
  /// when nil), each sum in the order of `order`.
  static func reference(
    columns: [[UInt8]], gradients: [Double], order: [Int32]?, count: Int, stride: Int
  ) -> [[Double]] {
    columns.map { column in
      var h = [Double](repeating: 0, count: stride * 3)
      for i in 0..<count {
        let b = Int(column[order.map { Int($0[i]) } ?? i]) * 3
        h[b] += gradients[2 * i]
        h[b + 1] += gradients[2 * i + 1]
        h[b + 2] += 1
      }
      return h
    }
  }

  @Test(arguments: [false, true], [false, true])
  func vectorSumsEqualScalarSums(indexed: Bool, countsKnown: Bool) {
    var rng = SeededGenerator(seed: 41)
    let rows = 3_000, stride = 17, features = 5
    // Few bins with many rows, so each bin's sum is long and rounds.
    let columns = (0..<features).map { _ in
      (0..<rows).map { _ in UInt8(min(stride - 1, Int(rng.uniform() * rng.uniform() * Double(stride)))) }
    }
    var order = (0..<Int32(rows)).filter { _ in rng.uniform() < 0.7 }
    order.shuffle(using: &rng)
    order = order.sorted()
    let count = indexed ? order.count : rows
    let gradients = (0..<(2 * count)).map { i in i % 2 == 0 ? rng.normal() / 3 : rng.uniform() * 0.25 }
    let expected = Self.reference(
      columns: columns, gradients: gradients, order: indexed ? order : nil, count: count, stride: stride)

    // Each feature's counts per bin, as the grower keeps the root's.
    let counts = expected.map { h in (0..<stride).map { h[3 * $0 + 2] } }
    let empty = [Double](repeating: .nan, count: stride * 3)
    var one = [[Double]](repeating: empty, count: features)
    var (h0, h1, h2, h3) = (empty, empty, empty, empty)
    columns.withUnsafeBufferPointers { c in
      let known = counts.flatMap { $0 }
      known.withUnsafeBufferPointer { known in
        let n = (0..<features).map { known.baseAddress! + $0 * stride }
        gradients.withUnsafeBufferPointer { g in
          order.withUnsafeBufferPointer { o in
            let idx = indexed ? o.baseAddress : nil
            for f in 0..<features {
              one[f].withUnsafeMutableBufferPointer { h in
                Grower.accumulate(
                  column: c[f], indices: idx, gradients: g.baseAddress!, count: count, histogram: h.baseAddress!,
                  stride: stride, counts: countsKnown ? n[f] : nil)
              }
            }
            h0.withUnsafeMutableBufferPointer { h0 in
              h1.withUnsafeMutableBufferPointer { h1 in
                h2.withUnsafeMutableBufferPointer { h2 in
                  h3.withUnsafeMutableBufferPointer { h3 in
                    Grower.accumulate4(
                      columns: (c[0], c[1], c[2], c[3]), indices: idx, gradients: g.baseAddress!, count: count,
                      histograms: (h0.baseAddress!, h1.baseAddress!, h2.baseAddress!, h3.baseAddress!), stride: stride,
                      counts: countsKnown ? (n[0], n[1], n[2], n[3]) : nil)
                  }
                }
              }
            }
          }
        }
      }
    }
    let four = [h0, h1, h2, h3]
    for f in 0..<features {
      #expect(one[f].map(\.bitPattern) == expected[f].map(\.bitPattern), "feature \(f)")
      if f < 4 { #expect(four[f].map(\.bitPattern) == expected[f].map(\.bitPattern), "feature \(f)") }
    }
    #expect(expected[0][3 * 1 + 2] > 100)
  }

  /// The grower's root counts are each splittable feature's rows per bin
  /// counted over all rows, and a fit with them (root histograms adding
  /// only g and h) grows the trees of one that counts every histogram:
  /// the fitted model is compared with one fitted on every thread count
  /// in `GradientBoostedTreesTests`; here the counts themselves.
  @Test func rootCountsAreEveryFeaturesRowsPerBin() {
    var rng = SeededGenerator(seed: 7)
    let rows = 5_000, features = 6
    var x = (0..<(rows * features)).map { _ in (rng.uniform() * 40).rounded(.down) }
    for i in Swift.stride(from: 0, to: x.count, by: 7) { x[i] = .nan }
    for i in 0..<rows { x[i * features + 5] = 1 }  // one value: not splittable
    let binning = GradientBoostedTreesBinning(
      features: x, featureCount: features, rows: rows, maximumBins: 16, threads: 1)
    let grower = Grower(
      binning: binning, featureCount: features, options: GradientBoostedTrees.Options(), threads: .init(fixed: 1))
    defer { grower.deallocate() }
    #expect(grower.splitFeatures == [0, 1, 2, 3, 4])
    for f in 0..<features {
      var counts = [Double](repeating: 0, count: binning.stride)
      if binning.splittable[f] { for i in 0..<rows { counts[Int(binning.bins[f * rows + i])] += 1 } }
      let got = (0..<binning.stride).map { grower.rootCounts[f * binning.stride + $0] }
      #expect(got.map(\.bitPattern) == counts.map(\.bitPattern), "feature \(f)")
    }
    #expect(grower.rootCounts[0] > 100)
  }

  /// A fixed count is kept; a shared one is the cores divided among the
  /// fits running (other tests' fits may run too), never below one.
  @Test func threadsAreFixedOrAShareOfTheCores() {
    #expect(GradientBoostedTrees.Threads(fixed: 3).now == 3)
    #expect(GradientBoostedTrees.Threads(fixed: 0).now == 1)
    let shared = GradientBoostedTrees.Threads().now
    #expect(shared >= 1 && shared <= Parallel.coreCount)
  }
}

extension Array where Element == [UInt8] {
  /// Base addresses of every inner array, valid inside `body`.
  fileprivate func withUnsafeBufferPointers<R>(_ body: ([UnsafePointer<UInt8>]) -> R) -> R {
    func nest(_ k: Int, _ done: [UnsafePointer<UInt8>]) -> R {
      k == count ? body(done) : self[k].withUnsafeBufferPointer { nest(k + 1, done + [$0.baseAddress!]) }
    }
    return nest(0, [])
  }
}
