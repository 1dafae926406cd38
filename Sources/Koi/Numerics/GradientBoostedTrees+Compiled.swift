/// A `GradientBoostedTrees` ensemble laid out for prediction over many rows:
/// the same predictions, bit for bit, faster than walking the fitted node
/// arrays one row at a time (the intervals stage predicts every pair twice).
///
/// Two changes of layout and order, none of arithmetic:
/// - **Ranks instead of thresholds.** Each feature's distinct split
///   thresholds `t₀ < t₁ < …` (bin edges, plus the largest finite magnitude
///   of a split that sends only missing values right) replace the doubles
///   in the splits. A row's value `x` (clamped as in fitting) becomes its
///   rank `r(x) = #{k : t_k < x}` once per row and feature, and
///   `x ≤ t_k ⇔ r(x) ≤ k` (if `x ≤ t_k`, only `t₀ … t_{k−1}` can be below
///   `x`; if `r(x) ≤ k`, `t_k` is not below `x`). Each row has two rank
///   columns per feature, which differ only for a missing value: rank 255,
///   above every `k`, in the first (for splits that send missing values
///   right), rank 0, at or below every `k`, in the second (missing left).
/// - **Every split over 16 rows at once.** A block's ranks are stored
///   column by column, a byte per row, so one vector comparison decides a
///   split for 16 rows. A tree is evaluated split by split, parents first,
///   each split over every row of the block: `S`, the rows that reach the
///   split (a byte mask per row; all rows at the root), becomes
///   `S ∧ ¬right` and `S ∧ right` for its children. A child that is a
///   split keeps its set for its own turn; a child that is a leaf puts its
///   number (leaves numbered left to right) into the leaf byte of its rows,
///   `leaf |= set ∧ number`, each row reaching one leaf. So each split costs
///   a row a sixteenth of about ten vector instructions, independent of the
///   other splits', where a walk is `depth` loads each waiting on the one
///   before: a tree's 30 splits for 16 rows take fewer instructions than
///   the 16 rows' 8 steps each (the level-by-level walk of 128 rows this
///   replaces: twice the time in a stand-alone comparison on the propensity
///   trees).
///
///   The loop over a block's rows is chosen per split by what its children
///   are, and stores a set only for a child that is a split (a leaf's set
///   is never read; 31 of a 31-leaf tree's 60 children are leaves). The
///   loop was store-bound (two sets and the leaf sums each split, for every
///   16 rows): storing only the sets that are read, and the leaf numbers
///   only at splits with a leaf child, took a fifth less time in the trees
///   (13.3 → 10.5 ms, ranks aside) than storing every child's set and
///   adding left-subtree leaf counts at every split, stand-alone on 34,013
///   rows of each window of a 10M-row run (78 and 120 trees; best of 10,
///   thread CPU time).
///
/// Each row's score is still `F₀` plus the trees' leaf values in tree
/// order, the order of `GradientBoostedTrees`'s sums.
struct CompiledTrees: Sendable {
  /// A split, as its tree's evaluation reads it.
  struct Split {
    /// Where its rank column starts in a block's ranks (a byte a row): the
    /// feature, plus `featureCount` when missing values go left, times
    /// `blockRows`.
    var ranks: Int32
    /// Its children's row sets (the sets of splits of its tree), −1 for a
    /// leaf.
    var left: Int16
    var right: Int16
    /// Its threshold's rank, biased (`^ 0x80`) as the ranks are, in every
    /// lane: rows with a greater rank go right.
    var threshold: SIMD16<Int8>
    /// Its children's leaf numbers in their tree, in every lane (0 for a
    /// child that is a split).
    var leftLeaf: SIMD16<Int8>
    var rightLeaf: SIMD16<Int8>
  }

  /// Rows per block (a multiple of 16). The block's ranks (2 × features
  /// bytes a row) and a tree's row sets (a byte a row per split) take 37 KB
  /// at 512 rows with the propensity trees; 512 took about a tenth less
  /// time than 128 and as much as 1,024 in a stand-alone comparison on
  /// them (rows of a 1M-row run, thread CPU time).
  static let blockRows = 512
  /// The rank of a missing value in the first column of its feature.
  static let missing: UInt8 = 255

  let featureCount: Int
  let initialScore: Double
  let logistic: Bool
  /// Every feature's sorted distinct split thresholds, feature after
  /// feature, in vectors of 8 (the last padded with +∞, which no clamped
  /// value exceeds; one vector of +∞ for a feature without splits);
  /// feature `f`'s are `thresholds[thresholdStart[f] ..<
  /// thresholdStart[f + 1]]`.
  let thresholds: [SIMD8<Double>]
  let thresholdStart: [Int]
  /// The first lanes of every feature's `thresholds` vectors, in vectors of
  /// 8: feature `f`'s are `heads[headStart[f] ..< headStart[f + 1]]`.
  let heads: [SIMD8<Double>]
  let headStart: [Int]
  /// Tree `t`'s splits are `splits[splitStart[t] ..< splitStart[t + 1]]`,
  /// parents before children (its row sets numbered the same way).
  let splitStart: [Int]
  let splits: [Split]
  /// Tree `t`'s leaf values, left to right, from `leafValues[leafStart[t]]`.
  let leafStart: [Int]
  let leafValues: [Double]
  /// Row sets a tree needs: one a split (at least one, the root's).
  let setCount: Int

  /// Compiles `trees`, or returns nil when the layout cannot hold them: a
  /// tree with more than 256 leaves (a byte per row numbers them; the
  /// options' `maximumLeaves` is 31), or a feature with more than 254
  /// thresholds below the largest finite magnitude, which no clamped value
  /// exceeds (rank 255 must mean missing; `bins` ≤ 255 gives at most 254
  /// bin edges).
  ///
  /// - Complexity: O(nodes · log nodes).
  init?(_ trees: GradientBoostedTrees) {
    let q = trees.featureCount
    var used = [Set<Double>](repeating: [], count: q)
    for (n, f) in trees.nodeFeature.enumerated() where f >= 0 { used[Int(f)].insert(trees.nodeThreshold[n]) }
    let perFeature = used.map { $0.sorted() }
    guard perFeature.allSatisfy({ $0.count < 255 || $0.count == 255 && $0.last == .greatestFiniteMagnitude }) else {
      return nil
    }

    var splits: [Split] = [], splitStart = [0], leafValues: [Double] = [], leafStart: [Int] = []
    var setCount = 1
    // Per node of the current tree: the leaves left of its subtree (a
    // leaf's number), and (for a split) its row set.
    var leavesBefore = [Int](repeating: 0, count: trees.nodeFeature.count)
    var set = [Int](repeating: 0, count: trees.nodeFeature.count)
    for root in trees.treeRoots {
      leafStart.append(leafValues.count)
      // Depth first, left subtrees first: parents before children, leaves
      // left to right.
      var order: [Int] = [], pending = [Int(root)], leaves = 0
      while let node = pending.popLast() {
        leavesBefore[node] = leaves
        if trees.nodeFeature[node] < 0 {
          leafValues.append(trees.nodeValue[node])
          leaves += 1
        } else {
          set[node] = order.count
          order.append(node)
          pending.append(Int(trees.nodeRight[node]))
          pending.append(Int(trees.nodeLeft[node]))
        }
      }
      guard leaves <= 256 else { return nil }
      func setOf(_ child: Int32) -> Int16 {
        Int16(truncatingIfNeeded: trees.nodeFeature[Int(child)] < 0 ? -1 : set[Int(child)])
      }
      func leafOf(_ child: Int32) -> SIMD16<Int8> {
        SIMD16(repeating: Int8(truncatingIfNeeded: trees.nodeFeature[Int(child)] < 0 ? leavesBefore[Int(child)] : 0))
      }
      for node in order {
        let f = Int(trees.nodeFeature[node])
        let column = trees.nodeMissingLeft[node] ? q + f : f
        let rank = Self.rank(of: trees.nodeThreshold[node], in: perFeature[f][...])
        splits.append(
          Split(
            ranks: Int32(truncatingIfNeeded: column * Self.blockRows), left: setOf(trees.nodeLeft[node]),
            right: setOf(trees.nodeRight[node]), threshold: SIMD16(repeating: Int8(truncatingIfNeeded: rank ^ 0x80)),
            leftLeaf: leafOf(trees.nodeLeft[node]), rightLeaf: leafOf(trees.nodeRight[node])))
      }
      splitStart.append(splits.count)
      setCount = max(setCount, order.count)
    }
    featureCount = q
    initialScore = trees.initialScore
    logistic = trees.options.objective == .logistic
    let vectors = perFeature.map(Self.vectors)
    let headVectors = vectors.map(Self.heads)
    thresholds = vectors.flatMap { $0 }
    thresholdStart = Self.starts(vectors.map(\.count))
    heads = headVectors.flatMap { $0 }
    headStart = Self.starts(headVectors.map(\.count))
    self.splits = splits
    self.splitStart = splitStart
    self.leafValues = leafValues
    self.leafStart = leafStart
    self.setCount = setCount
  }

  /// `[0, c₀, c₀ + c₁, …]`: where each of consecutive runs of `counts` starts.
  static func starts(_ counts: [Int]) -> [Int] {
    var start = [0]
    for c in counts { start.append(start[start.count - 1] + c) }
    return start
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

  /// Sorted thresholds in vectors of 8, the last padded with +∞ (one vector
  /// of +∞ for none).
  static func vectors(_ sorted: [Double]) -> [SIMD8<Double>] {
    stride(from: 0, to: max(sorted.count, 1), by: 8).map { k in
      var v = SIMD8<Double>(repeating: .infinity)
      for j in k..<min(k + 8, sorted.count) { v[j - k] = sorted[j] }
      return v
    }
  }

  /// The first lanes of `vectors(sorted)`, in vectors of 8 (padded with +∞).
  static func heads(_ vectors: [SIMD8<Double>]) -> [SIMD8<Double>] { Self.vectors(vectors.map { $0[0] }) }

  /// `rank(of:in:)` without a branch on the data, for prediction, from a
  /// feature's `vectors` (`vectors(_:)`) and their `heads` (`heads(_:)`):
  /// with `c` the count of vectors
  /// whose first threshold is below `x`, those before the `c`-th lie wholly
  /// below `x` and those after it wholly not (the thresholds are sorted),
  /// so the rank is `8 (c − 1)` plus the count below `x` in the `c`-th
  /// vector (for `c = 0`, the count in the first, 0). Two vector
  /// comparisons for up to 64 thresholds, where comparing with every
  /// vector took one per 8 (and a binary search, even written with
  /// selects, compiled to a branch per level that mispredicted about half
  /// the time). Equal to `rank(of:in:)` for a non-NaN `x` ≤
  /// `greatestFiniteMagnitude` and sorted, non-NaN thresholds: the +∞
  /// padding is never below `x`.
  ///
  /// The count in the `c`-th vector adds its lanes (−1 below `x`) in halves:
  /// its `wrappedSum()` of 0/1 lanes compiled to a population count of the
  /// comparison mask, a multiply sequence in the baseline x86-64 target
  /// (no POPCNT), and the ranks took a sixth more time (`writeRanks` 6.28
  /// against 5.30 ms on 68,026 rows of a 10M-row run's two windows,
  /// stand-alone, best of 10, thread CPU time).
  ///
  /// - Complexity: O(thresholds / 64) vector comparisons.
  @inline(__always)
  static func branchlessRank(
    of x: Double, in vectors: UnsafePointer<SIMD8<Double>>, heads: UnsafeBufferPointer<SIMD8<Double>>
  ) -> Int {
    let vx = SIMD8<Double>(repeating: x)
    var below = SIMD8<Int64>()
    for v in heads { below &+= SIMD8<Int64>().replacing(with: 1, where: v .< vx) }
    let c = max(Int(below.wrappedSum()) &- 1, 0)
    let lanes = SIMD8<Int64>().replacing(with: -1, where: vectors[c] .< vx)
    let half = lanes.lowHalf &+ lanes.highHalf, quarter = half.lowHalf &+ half.highHalf
    return 8 &* c &- Int(quarter[0] &+ quarter[1])
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
  /// - Complexity: O(rows · (features · thresholds / 64 + Σ_t splits_t / 16)).
  func predict(features x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
    let q = featureCount
    guard q > 0 else { return }
    let rows = x.count / q
    precondition(x.count == rows * q && out.count >= rows, "features must be rows × featureCount")
    let block = Block(featureCount: q, sets: setCount)
    defer { block.deallocate() }
    var start = 0
    while start < rows {
      let n = min(Self.blockRows, rows - start)
      writeRanks(of: UnsafeBufferPointer(rebasing: x[(start * q)..<((start + n) * q)]), to: block)
      for k in 0..<(block.vectors(n) * 8) { block.scores[k] = SIMD2(repeating: initialScore) }
      for t in 0..<(splitStart.count - 1) { addLeafValues(ofTree: t, rows: n, to: block) }
      for i in 0..<n {
        let score = block.scores[i >> 1][i & 1]
        out[start + i] = logistic ? GradientBoostedTrees.sigmoid(score) : score
      }
      start += n
    }
  }

  /// One block of rows' working memory. Rows past a short block's last, up
  /// to a multiple of 16, keep ranks of earlier rows (or zeros): any bytes
  /// give some leaf, which is not used.
  struct Block {
    /// The rows' biased ranks, column by column, a byte a row (raw memory:
    /// read as vectors of 16 and written as bytes).
    let ranks: UnsafeMutableRawPointer
    /// Per split of the current tree, the rows that reach it (all bits set).
    let sets: UnsafeMutablePointer<SIMD16<Int8>>
    /// The rows' leaves in the current tree, a byte a row (raw memory, as
    /// `ranks`).
    let leaves: UnsafeMutableRawPointer
    /// The rows' scores, two a vector.
    let scores: UnsafeMutablePointer<SIMD2<Double>>

    init(featureCount q: Int, sets: Int) {
      ranks = .allocate(byteCount: 2 * q * CompiledTrees.blockRows, alignment: 16)
      ranks.initializeMemory(as: UInt8.self, repeating: 0, count: 2 * q * CompiledTrees.blockRows)
      self.sets = .allocate(capacity: sets * CompiledTrees.blockRows / 16)
      leaves = .allocate(byteCount: CompiledTrees.blockRows, alignment: 16)
      scores = .allocate(capacity: CompiledTrees.blockRows / 2)
    }

    /// Vectors of 16 rows that hold `rows` rows.
    func vectors(_ rows: Int) -> Int { (rows + 15) / 16 }

    func deallocate() {
      ranks.deallocate()
      sets.deallocate()
      leaves.deallocate()
      scores.deallocate()
    }
  }

  /// Writes the biased ranks (`rank ^ 0x80`, so that a signed comparison
  /// orders them as unsigned) of row-major `x`'s rows to `block`.
  func writeRanks(of x: UnsafeBufferPointer<Double>, to block: Block) {
    let q = featureCount, stride = Self.blockRows
    thresholds.withUnsafeBufferPointer { thresholds in
      heads.withUnsafeBufferPointer { heads in
        thresholdStart.withUnsafeBufferPointer { thresholdStart in
          headStart.withUnsafeBufferPointer { headStart in
            for i in 0..<(x.count / q) {
              for f in 0..<q {
                let v = x[i &* q &+ f]
                var r = Self.missing, missingLeft: UInt8 = 0
                if !v.isNaN {
                  r = UInt8(
                    truncatingIfNeeded: Self.branchlessRank(
                      of: GradientBoostedTreesBinning.clamped(v),
                      // (Every feature has a vector: the base address is not nil.)
                      in: thresholds.baseAddress! + thresholdStart[f],
                      heads: UnsafeBufferPointer(rebasing: heads[headStart[f]..<headStart[f &+ 1]])))
                  missingLeft = r
                }
                block.ranks.storeBytes(of: r ^ 0x80, toByteOffset: f &* stride &+ i, as: UInt8.self)
                block.ranks.storeBytes(of: missingLeft ^ 0x80, toByteOffset: (q &+ f) &* stride &+ i, as: UInt8.self)
              }
            }
          }
        }
      }
    }
  }

  /// Adds tree `t`'s leaf values for the block's first `rows` rows to their
  /// scores.
  func addLeafValues(ofTree t: Int, rows: Int, to block: Block) {
    let vectors = block.vectors(rows), perColumn = Self.blockRows / 16
    for k in 0..<vectors {
      block.sets[k] = SIMD16(repeating: -1)
      block.leaves.storeBytes(of: SIMD16<Int8>(), toByteOffset: 16 &* k, as: SIMD16<Int8>.self)
    }
    splits.withUnsafeBufferPointer { splits in
      let first = splitStart[t]
      for s in first..<splitStart[t + 1] {
        let split = splits[s]
        let column = block.ranks + Int(split.ranks), reached = block.sets + (s &- first) &* perColumn
        func set(_ child: Int16) -> UnsafeMutablePointer<SIMD16<Int8>> { block.sets + Int(child) &* perColumn }
        /// Which rows of the `k`-th 16 go right (all bits set).
        @inline(__always) func goesRight(_ k: Int) -> SIMD16<Int8> {
          SIMD16<Int8>().replacing(
            with: -1, where: column.load(fromByteOffset: 16 &* k, as: SIMD16<Int8>.self) .> split.threshold)
        }
        /// Puts `leaf` (numbers, or zeros for rows that reach no leaf
        /// here) into the leaf bytes of the `k`-th 16 rows.
        @inline(__always) func reach(_ k: Int, _ leaf: SIMD16<Int8>) {
          let leaves = block.leaves.load(fromByteOffset: 16 &* k, as: SIMD16<Int8>.self) | leaf
          block.leaves.storeBytes(of: leaves, toByteOffset: 16 &* k, as: SIMD16<Int8>.self)
        }
        switch (split.left >= 0, split.right >= 0) {
        case (true, true):
          let left = set(split.left), right = set(split.right)
          for k in 0..<vectors {
            let r = goesRight(k), reaching = reached[k]
            left[k] = reaching & ~r
            right[k] = reaching & r
          }
        case (false, true):
          let right = set(split.right)
          for k in 0..<vectors {
            let r = goesRight(k), reaching = reached[k]
            right[k] = reaching & r
            reach(k, reaching & ~r & split.leftLeaf)
          }
        case (true, false):
          let left = set(split.left)
          for k in 0..<vectors {
            let r = goesRight(k), reaching = reached[k]
            left[k] = reaching & ~r
            reach(k, reaching & r & split.rightLeaf)
          }
        case (false, false):
          for k in 0..<vectors {
            // Left's number, or right's where the row goes right.
            reach(k, reached[k] & (split.leftLeaf ^ goesRight(k) & (split.leftLeaf ^ split.rightLeaf)))
          }
        }
      }
    }
    leafValues.withUnsafeBufferPointer { leafValues in
      let values = UnsafeBufferPointer(rebasing: leafValues[leafStart[t]...])
      func leaf(_ i: Int) -> Int { Int(block.leaves.load(fromByteOffset: i, as: UInt8.self)) }
      for k in 0..<(vectors * 8) { block.scores[k] += SIMD2(values[leaf(2 &* k)], values[leaf(2 &* k &+ 1)]) }
    }
  }
}
