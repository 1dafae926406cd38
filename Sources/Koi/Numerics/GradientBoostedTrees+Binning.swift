/// Quantile binning of the training features for `GradientBoostedTrees`.
///
/// Each feature `j` gets cut points ("edges") `e_1 < e_2 < … < e_{m−1}`, and
/// a value `x` goes to
/// ```
///   bin(x) = 0                                  if x is NaN (missing)
///   bin(x) = 1 + #{ k : e_k < x }               otherwise, in 1…m
/// ```
/// so value bin `k` is `e_{k−1} < x ≤ e_k` and "bin ≤ k" is exactly
/// "x ≤ e_k": a split found on bins is applied to raw values with the
/// threshold `e_k`, and prediction needs no binning.
///
/// Edges come from the sorted distinct non-missing training values
/// `v_1 < … < v_d` with row counts `c_1 … c_d` (exact, no sampling):
/// - `d ≤ bins`: one bin per distinct value, `e_k = mid(v_k, v_{k+1})`;
/// - `d > bins`: greedy equal-frequency bins: walking the distinct values, a
///   bin is closed after `v_i` when its row count reaches the target
///   `remaining rows / remaining bins`, or when adding `v_{i+1}` would
///   overshoot the target by more than the bin now falls short of it; a heavy
///   value therefore gets a bin of its own. `e = mid(v_i, v_{i+1})`.
///
/// `mid(a, b)` is the midpoint `a/2 + b/2`, moved to `a` if rounding put it
/// outside `[a, b)` (as LightGBM does, new values between two training values
/// go to the nearer side). Infinite values are clamped to
/// `±Double.greatestFiniteMagnitude` both here and in prediction, so every
/// edge is finite and the model encodes to JSON.
struct GradientBoostedTreesBinning: Sendable {
  /// Cut points per feature; feature `j` has `edges[j].count + 1` value bins.
  let edges: [[Double]]
  /// Bin indices, column-major: row `i` of feature `j` is `bins[j * rows + i]`.
  let bins: [UInt8]
  let rows: Int
  /// Bins per feature including the missing bin 0 (the histogram stride).
  let stride: Int
  /// Whether the feature's training rows fall into at least two bins (a
  /// feature with one distinct value and no missing rows, or all missing, is
  /// never split).
  let splittable: [Bool]

  /// Bins `features` (row-major `rows × featureCount`).
  ///
  /// Each feature's non-missing values are ordered once by a radix sort
  /// (`RadixSort.ascendingOrder`: a comparison sort of the 160,000-row
  /// columns was most of a fit's binning), which gives both the sorted
  /// values for `cutPoints` and, walked with a cursor over the cut points,
  /// every row's bin: `1 + #{k : e_k < x}`, what `bin(of:edges:)` finds by
  /// binary search. The order of equal values, and of -0.0 beside 0.0, does
  /// not change the cut points (they group values by `==`, and `midpoint`
  /// gives the same double whichever zero it is handed), so they are those
  /// of any ascending order.
  ///
  /// - Complexity: O(rows) per feature (a four-pass radix sort), features
  ///   in parallel over `threads`; the result does not depend on `threads`.
  init(features: [Double], featureCount: Int, rows: Int, maximumBins: Int, threads: Int) {
    precondition(maximumBins >= 2 && maximumBins <= 255, "bins must be in 2…255")
    precondition(rows < Int(Int32.max), "fewer than Int32.max rows (the sort's order is Int32)")
    self.rows = rows
    stride = maximumBins + 1
    var edges = [[Double]](repeating: [], count: featureCount)
    var bins = [UInt8](repeating: 0, count: rows * featureCount)  // 0: missing, the bin of a NaN
    var splittable = [Bool](repeating: false, count: featureCount)
    let workers = max(1, min(threads, featureCount))
    edges.withUnsafeMutableBufferPointer { edgesOut in
      bins.withUnsafeMutableBufferPointer { binsOut in
        splittable.withUnsafeMutableBufferPointer { splittableOut in
          features.withUnsafeBufferPointer { x in
            Parallel.forEachChunk(count: featureCount, chunkCount: max(1, workers)) { _, range in
              // The feature's non-missing values (clamped) and their rows.
              var column = [Double]()
              var rowOf = [Int32]()
              var sorted = [Double]()
              column.reserveCapacity(rows)
              rowOf.reserveCapacity(rows)
              sorted.reserveCapacity(rows)
              for j in range {
                column.removeAll(keepingCapacity: true)
                rowOf.removeAll(keepingCapacity: true)
                for i in 0..<rows {
                  let v = x[i * featureCount + j]
                  if !v.isNaN {
                    column.append(Self.clamped(v))
                    rowOf.append(Int32(truncatingIfNeeded: i))
                  }
                }
                // No NaN in `column` and fewer than Int32.max values: never nil.
                guard let order = RadixSort.ascendingOrder(column) else { preconditionFailure("unsortable column") }
                sorted.removeAll(keepingCapacity: true)
                for k in order { sorted.append(column[Int(k)]) }
                let cuts = Self.cutPoints(sortedValues: sorted, maximumBins: maximumBins)
                edgesOut[j] = cuts
                var e = 0  // #{cuts below the current value}, non-decreasing along `sorted`
                for (n, k) in order.enumerated() {
                  let v = sorted[n]
                  while e < cuts.count && cuts[e] < v { e += 1 }
                  binsOut[j * rows + Int(rowOf[Int(k)])] = UInt8(truncatingIfNeeded: e + 1)
                }
                // Rows in two bins at least: missing and non-missing rows, or
                // two distinct values (then a cut point lies between them).
                splittableOut[j] = !column.isEmpty && (column.count < rows || !cuts.isEmpty)
              }
            }
          }
        }
      }
    }
    self.edges = edges
    self.bins = bins
    self.splittable = splittable
  }

  /// The bins of other rows (row-major `features`, `featureCount` a row)
  /// with these edges, row-major: row `i` of feature `j` is
  /// `[i * featureCount + j]`.
  ///
  /// - Complexity: O(rows · featureCount · log edges).
  func rowMajorBins(of features: [Double], featureCount: Int) -> [UInt8] {
    precondition(featureCount == edges.count && features.count % max(1, featureCount) == 0, "rows of these features")
    return features.indices.map { Self.bin(of: features[$0], edges: edges[$0 % featureCount]) }
  }

  /// `x` with infinities clamped to the largest finite magnitude.
  @inline(__always)
  static func clamped(_ x: Double) -> Double {
    x.isInfinite ? (x > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude) : x
  }

  /// The bin of `x` given a feature's sorted `edges` (binary search).
  ///
  /// - Complexity: O(log edges.count).
  @inline(__always)
  static func bin(of x: Double, edges: [Double]) -> UInt8 {
    if x.isNaN { return 0 }
    let v = clamped(x)
    var lo = 0, hi = edges.count
    while lo < hi {  // first k with v ≤ edges[k]
      let mid = (lo + hi) / 2
      if v <= edges[mid] { hi = mid } else { lo = mid + 1 }
    }
    return UInt8(truncatingIfNeeded: lo + 1)
  }

  /// Cut points for one feature's sorted non-missing values.
  ///
  /// - Complexity: O(values.count).
  static func cutPoints(sortedValues v: [Double], maximumBins: Int) -> [Double] {
    guard !v.isEmpty else { return [] }
    var distinct: [Double] = []
    var counts: [Int] = []
    for x in v {
      if let last = distinct.last, last == x {
        counts[counts.count - 1] += 1
      } else {
        distinct.append(x)
        counts.append(1)
      }
    }
    let d = distinct.count
    if d == 1 { return [] }
    var cuts: [Double] = []
    if d <= maximumBins {
      for k in 0..<(d - 1) { cuts.append(midpoint(distinct[k], distinct[k + 1])) }
      return cuts
    }
    var remainingRows = v.count
    var remainingBins = maximumBins
    var inBin = 0
    for i in 0..<(d - 1) where remainingBins > 1 {
      inBin += counts[i]
      let target = Double(remainingRows) / Double(remainingBins)
      let short = target - Double(inBin)
      let over = Double(inBin + counts[i + 1]) - target
      if short <= 0 || over > short {
        cuts.append(midpoint(distinct[i], distinct[i + 1]))
        remainingRows -= inBin
        remainingBins -= 1
        inBin = 0
      }
    }
    return cuts
  }

  /// A threshold `t` with `a ≤ t < b` for finite `a < b`: the midpoint unless
  /// rounding (or overflow of `a + b`) puts it outside, then `a`.
  @inline(__always)
  static func midpoint(_ a: Double, _ b: Double) -> Double {
    let m = a / 2 + b / 2
    return (m >= a && m < b) ? m : a
  }
}
