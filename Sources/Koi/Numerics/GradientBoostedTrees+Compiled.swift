/// A `GradientBoostedTrees` ensemble laid out for prediction over many rows:
/// the same predictions, bit for bit, faster than walking the fitted node
/// arrays one row at a time (the intervals stage predicts every pair twice).
///
/// Three changes of layout and order, none of arithmetic:
/// - **Ranks instead of thresholds.** Each feature's distinct split
///   thresholds `t₀ < t₁ < …` (bin edges, plus the largest finite magnitude
///   of a split that sends only missing values right) replace the doubles
///   in the nodes. A row's value `x` (clamped as in fitting) becomes its
///   rank `r(x) = #{k : t_k < x}` once per row and feature, and
///   `x ≤ t_k ⇔ r(x) ≤ k` (if `x ≤ t_k`, only `t₀ … t_{k−1}` can be below
///   `x`; if `r(x) ≤ k`, `t_k` is not below `x`). Each row has two rank
///   columns per feature, which differ only for a missing value: rank 255,
///   above every `k`, in the first (for splits that send missing values
///   right), rank 0, at or below every `k`, in the second (missing left).
/// - **8-byte nodes, children side by side, leaves that stay put.** A split
///   holds its rank column (the feature, plus the feature count when missing
///   values go left), its threshold rank and its left child; the right
///   child follows it, so a step is one comparison. A leaf goes "left" to
///   itself (rank 255 admits every row), so `depth` steps from the root
///   reach a row's leaf in any tree of that depth.
/// - **Trees over blocks of rows, rows in lockstep.** Rows are predicted in
///   blocks; each tree takes every row of the block one level down per
///   pass, `depth` passes, with no branch on the data: the rows' steps are
///   independent, so the processor overlaps them instead of waiting on
///   (and mispredicting) one walk at a time, and the tree's nodes stay in
///   the first-level cache. Each row's score is still `F₀` plus the trees'
///   leaf values in tree order, the order of `GradientBoostedTrees`'s sums.
struct CompiledTrees: Sendable {
  struct Node {
    /// The rank column: the feature, plus `featureCount` when missing
    /// values go left.
    var column: UInt8
    /// Rows with rank ≤ `rank` go to `next`, the others to `next + 1`.
    var rank: UInt8
    var next: Int32
  }

  static let missing: UInt8 = 255
  /// Rows per block: the block's ranks (rows × 2 × features bytes), node
  /// indices and scores stay in the first-level cache.
  static let blockRows = 128

  let featureCount: Int
  let initialScore: Double
  let logistic: Bool
  /// Every feature's sorted distinct split thresholds, feature after
  /// feature, in vectors of 8 (the last padded with +∞, which no clamped
  /// value exceeds); feature `f`'s are `thresholds[thresholdStart[f] ..<
  /// thresholdStart[f + 1]]`.
  let thresholds: [SIMD8<Double>]
  let thresholdStart: [Int]
  let roots: [Int32]
  /// Per tree, the depth of its deepest leaf.
  let depths: [Int]
  let nodes: [Node]
  /// Per node, the leaf value (0 for a split).
  let values: [Double]

  /// Compiles `trees`, or returns nil when the layout cannot hold them (128
  /// or more features, whose two rank columns need a byte, or a feature
  /// with 255 thresholds not ending at the largest finite magnitude;
  /// neither happens with the `bins` that
  /// `GradientBoostedTrees.Options.validate` accepts and fewer features).
  ///
  /// - Complexity: O(nodes · log nodes).
  init?(_ trees: GradientBoostedTrees) {
    guard trees.featureCount < 128 else { return nil }
    var used = [Set<Double>](repeating: [], count: trees.featureCount)
    for (n, f) in trees.nodeFeature.enumerated() where f >= 0 { used[Int(f)].insert(trees.nodeThreshold[n]) }
    let perFeature = used.map { $0.sorted() }
    // A rank of 255 must mean missing: 255 thresholds only with the largest
    // finite magnitude among them, which no clamped value exceeds.
    guard perFeature.allSatisfy({ $0.count < 255 || $0.last == .greatestFiniteMagnitude }) else { return nil }

    var nodes: [Node] = []
    var values: [Double] = []
    var roots: [Int32] = [], depths: [Int] = []
    nodes.reserveCapacity(trees.nodeFeature.count)
    values.reserveCapacity(trees.nodeFeature.count)
    func reserve() -> Int {
      nodes.append(Node(column: 0, rank: 0, next: 0))
      values.append(0)
      return nodes.count - 1
    }
    for root in trees.treeRoots {
      roots.append(Int32(truncatingIfNeeded: nodes.count))
      var depth = 0
      // (source node, slot in `nodes`, depth) still to fill.
      var pending = [(Int(root), reserve(), 0)]
      while let (source, slot, level) = pending.popLast() {
        let f = Int(trees.nodeFeature[source])
        if f < 0 {
          nodes[slot] = Node(column: 0, rank: 255, next: Int32(truncatingIfNeeded: slot))
          values[slot] = trees.nodeValue[source]
          depth = max(depth, level)
          continue
        }
        let rank = Self.rank(of: trees.nodeThreshold[source], in: perFeature[f][...])
        let left = reserve()
        _ = reserve()
        nodes[slot] = Node(
          column: UInt8(truncatingIfNeeded: trees.nodeMissingLeft[source] ? f + trees.featureCount : f),
          rank: UInt8(truncatingIfNeeded: rank), next: Int32(truncatingIfNeeded: left))
        pending.append((Int(trees.nodeRight[source]), left + 1, level + 1))
        pending.append((Int(trees.nodeLeft[source]), left, level + 1))
      }
      depths.append(depth)
    }
    featureCount = trees.featureCount
    initialScore = trees.initialScore
    logistic = trees.options.objective == .logistic
    let vectors = perFeature.map(Self.vectors)
    thresholds = vectors.flatMap { $0 }
    var start = [0]
    for t in vectors { start.append(start[start.count - 1] + t.count) }
    thresholdStart = start
    self.roots = roots
    self.depths = depths
    self.nodes = nodes
    self.values = values
  }

  /// `#{k : thresholds[k] < x}` for a clamped, non-missing `x` (binary search).
  @inline(__always)
  static func rank<C: RandomAccessCollection<Double>>(of x: Double, in thresholds: C) -> Int where C.Index == Int {
    var lo = thresholds.startIndex, hi = thresholds.endIndex
    while lo < hi {  // first k with x ≤ thresholds[k]
      let mid = (lo + hi) / 2
      if x <= thresholds[mid] { hi = mid } else { lo = mid + 1 }
    }
    return lo - thresholds.startIndex
  }

  /// Sorted thresholds in vectors of 8, the last padded with +∞.
  static func vectors(_ sorted: [Double]) -> [SIMD8<Double>] {
    stride(from: 0, to: sorted.count, by: 8).map { k in
      var v = SIMD8<Double>(repeating: .infinity)
      for j in k..<min(k + 8, sorted.count) { v[j - k] = sorted[j] }
      return v
    }
  }

  /// `rank(of:in:)` without a branch on the data, for prediction: the
  /// count of thresholds below `x`, eight vector comparisons at a time (a
  /// binary search, even written with selects, compiled to a branch per
  /// level that mispredicted about half the time: a third of `predict`'s
  /// samples). Equal to `rank(of:in:)` for a non-NaN `x` ≤
  /// `greatestFiniteMagnitude` and sorted, non-NaN thresholds: those below
  /// `x` are exactly the ones before its rank, and the +∞ padding is never
  /// below `x`.
  ///
  /// - Complexity: O(thresholds / 8) vector comparisons.
  @inline(__always)
  static func branchlessRank(of x: Double, in t: UnsafeBufferPointer<SIMD8<Double>>) -> Int {
    let vx = SIMD8<Double>(repeating: x)
    var below = SIMD8<Int64>()
    for v in t { below &+= SIMD8<Int64>().replacing(with: 1, where: v .< vx) }
    return Int(below.wrappedSum())
  }

  /// The predictions of `GradientBoostedTrees.predict` for row-major
  /// `features` (`rows × featureCount`; `featureCount > 0`).
  func predict(features: [Double]) -> [Double] {
    var out = [Double](repeating: 0, count: features.count / max(1, featureCount))
    features.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { predict(features: x, into: $0) } }
    return out
  }

  /// `predict(features:)` written to `out` (at least `rows` values).
  ///
  /// - Complexity: O(rows · (features · log thresholds + Σ_t depth_t)).
  func predict(features x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
    let q = featureCount
    guard q > 0 else { return }
    let rows = x.count / q
    precondition(x.count == rows * q && out.count >= rows, "features must be rows × featureCount")
    let block = Self.blockRows
    let columns = 2 * q
    var ranks = [UInt8](repeating: 0, count: block * columns)
    var at = [Int32](repeating: 0, count: block)
    var scores = [Double](repeating: 0, count: block)
    ranks.withUnsafeMutableBufferPointer { ranks in
      at.withUnsafeMutableBufferPointer { at in
        scores.withUnsafeMutableBufferPointer { scores in
          nodes.withUnsafeBufferPointer { nodes in
            values.withUnsafeBufferPointer { values in
              thresholds.withUnsafeBufferPointer { thresholds in
                var start = 0
                while start < rows {
                  let n = min(block, rows - start)
                  for i in 0..<n {
                    for f in 0..<q {
                      let v = x[(start + i) * q + f]
                      if v.isNaN {
                        ranks[i * columns + f] = Self.missing
                        ranks[i * columns + q + f] = 0
                      } else {
                        let r = Self.branchlessRank(
                          of: GradientBoostedTreesBinning.clamped(v),
                          in: UnsafeBufferPointer(rebasing: thresholds[thresholdStart[f]..<thresholdStart[f + 1]]))
                        ranks[i * columns + f] = UInt8(truncatingIfNeeded: r)
                        ranks[i * columns + q + f] = UInt8(truncatingIfNeeded: r)
                      }
                    }
                    scores[i] = initialScore
                  }
                  for (t, root) in roots.enumerated() {
                    for i in 0..<n { at[i] = root }
                    for _ in 0..<depths[t] {
                      for i in 0..<n {
                        let node = nodes[Int(at[i])]
                        let r = ranks[i &* columns &+ Int(node.column)]
                        at[i] = node.next &+ (r <= node.rank ? 0 : 1)
                      }
                    }
                    for i in 0..<n { scores[i] += values[Int(at[i])] }
                  }
                  for i in 0..<n {
                    out[start + i] = logistic ? GradientBoostedTrees.sigmoid(scores[i]) : scores[i]
                  }
                  start += n
                }
              }
            }
          }
        }
      }
    }
  }
}
