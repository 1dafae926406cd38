/// The working state of one `GradientBoostedTrees` fit: every buffer is
/// allocated once per fit and reused by every tree, so the hot loops neither
/// allocate nor touch reference counts. The learner's pointer kernels are
/// in this file (the only other unsafe access is the parallel write of bin
/// indices in GradientBoostedTrees+Binning.swift and the parallel held-out
/// scoring in GradientBoostedTrees+Fit.swift).
///
/// Rows of a leaf are a contiguous range of `indices`, kept in ascending row
/// order by a stable partition, so every histogram bin is a sum in row order.
/// The rows' (g, h) pairs move with them (`gradients` is in `indices`
/// order), so a leaf's histogram reads its gradients contiguously.
/// Histograms are built in parallel over features (one thread owns a whole
/// feature), never over rows: each bin's sum has one fixed order, and the
/// model is bit-identical for any thread count.
///
/// The `baseAddress!` unwraps in this file are of buffers allocated here with
/// a positive capacity (every capacity is clamped to at least 1), whose base
/// address is never nil.
struct GradientBoostedTreesGrower {
  /// The best split found for a leaf; `feature < 0` means none.
  struct Split {
    var gain = 0.0
    var feature = -1
    /// Rows with value bin `1…bin` go left (`bin` may be the last value bin:
    /// then only missing rows go right).
    var bin = 0
    var missingLeft = false
    var leftGradient = 0.0, leftHessian = 0.0, leftCount = 0.0
  }

  /// A leaf of the tree being grown.
  struct Leaf {
    var begin: Int
    var count: Int
    var depth: Int
    /// Index of the leaf's node in `nodes`.
    var node: Int
    var gradient: Double, hessian: Double
    /// Histogram slot; the slots of the leaves are always `0..<leaves.count`,
    /// and a slot holds the leaf's histogram only if the leaf can be split.
    var slot: Int
    var best = Split()
  }

  /// A node of the tree being grown; leaves carry `leaf`, splits `feature`.
  struct Node {
    var feature = -1
    var bin = 0
    var missingLeft = false
    var left = -1, right = -1
    var leaf = -1
    var gain = 0.0
  }

  let rows: Int
  let featureCount: Int
  /// Histogram stride: bins per feature including the missing bin.
  let stride: Int
  let threadCount: GradientBoostedTrees.Threads
  /// Threads for a parallel step starting now (`GradientBoostedTrees.Threads`).
  var threads: Int { threadCount.now }
  let options: GradientBoostedTrees.Options
  let splittable: [Bool]
  /// Value bins per feature (edges + 1).
  let valueBins: [Int]

  let bins: UnsafeMutableBufferPointer<UInt8>
  /// Interleaved (g, h) of row `indices[i]` at `[2i]`, `[2i + 1]`.
  let gradients: UnsafeMutableBufferPointer<Double>
  let gradientScratch: UnsafeMutableBufferPointer<Double>
  let indices: UnsafeMutableBufferPointer<Int32>
  let scratch: UnsafeMutableBufferPointer<Int32>
  /// The splittable features, in order.
  let splitFeatures: [Int]
  /// `maximumLeaves` slots of `featureCount × stride × (g, h, count)`.
  let histograms: UnsafeMutableBufferPointer<Double>
  /// `featureCount × stride`: the rows per bin of every splittable feature
  /// over all rows, the root's counts, which are the same in every tree
  /// (the bins do not change), so the root's histograms add only (g, h).
  let rootCounts: UnsafeMutableBufferPointer<Double>
  /// Residuals of one leaf (absolute-error leaf renewal).
  let residuals: UnsafeMutableBufferPointer<Double>

  var leaves: [Leaf] = []
  var nodes: [Node] = []

  init(
    binning: GradientBoostedTreesBinning, featureCount: Int, options: GradientBoostedTrees.Options,
    threads: GradientBoostedTrees.Threads
  ) {
    rows = binning.rows
    self.featureCount = featureCount
    stride = binning.stride
    threadCount = threads
    self.options = options
    splittable = binning.splittable
    valueBins = binning.edges.map { $0.count + 1 }
    let n = max(1, rows)
    bins = .allocate(capacity: max(1, binning.bins.count))
    _ = bins.initialize(from: binning.bins)
    gradients = .allocate(capacity: 2 * n)
    gradients.initialize(repeating: 0)
    gradientScratch = .allocate(capacity: 2 * n)
    gradientScratch.initialize(repeating: 0)
    splitFeatures = (0..<featureCount).filter { binning.splittable[$0] }
    indices = .allocate(capacity: n)
    indices.initialize(repeating: 0)
    scratch = .allocate(capacity: n)
    scratch.initialize(repeating: 0)
    histograms = .allocate(capacity: max(1, options.maximumLeaves * featureCount * stride * 3))
    histograms.initialize(repeating: 0)
    rootCounts = .allocate(capacity: max(1, featureCount * stride))
    rootCounts.initialize(repeating: 0)
    // Each count a sum of ones from +0 in row order, as `accumulate` adds them.
    for f in splitFeatures {
      let column = bins.baseAddress! + f * rows, counts = rootCounts.baseAddress! + f * stride  // see the type's note
      for i in 0..<rows { counts[Int(column[i])] += 1 }
    }
    residuals = .allocate(capacity: n)
    residuals.initialize(repeating: 0)
    leaves.reserveCapacity(options.maximumLeaves)
    nodes.reserveCapacity(2 * options.maximumLeaves)
  }

  func deallocate() {
    bins.deallocate(); gradients.deallocate(); gradientScratch.deallocate(); indices.deallocate()
    scratch.deallocate(); histograms.deallocate(); rootCounts.deallocate(); residuals.deallocate()
  }

  // MARK: - Gradients

  /// Fills `gradients` with (gᵢ, hᵢ) at `scores` (see `GradientBoostedTrees`),
  /// in row order (the order `grow` starts from).
  ///
  /// - Complexity: O(rows), parallel over fixed row chunks (element-wise, so
  ///   the result does not depend on the chunking).
  func computeGradients(scores: [Double], labels: [Double]) {
    let objective = options.objective
    let gh = gradients.baseAddress!  // capacity ≥ 2, see the type's note
    scores.withUnsafeBufferPointer { f in
      labels.withUnsafeBufferPointer { y in
        Parallel.forEachChunk(count: rows, chunkCount: chunkCount(rows)) { _, range in
          switch objective {
          case .logistic:
            for i in range {
              let p = GradientBoostedTrees.sigmoid(f[i])
              gh[2 * i] = p - y[i]
              gh[2 * i + 1] = p * (1 - p)
            }
          case .absoluteError:
            for i in range {
              let d = f[i] - y[i]
              gh[2 * i] = d > 0 ? 1 : (d < 0 ? -1 : 0)
              gh[2 * i + 1] = 1
            }
          }
        }
      }
    }
  }

  /// Chunks for element-wise row loops: one per thread for large inputs.
  func chunkCount(_ count: Int) -> Int {
    count >= 65_536 ? threads : 1
  }

  // MARK: - Growing one tree

  /// Grows one tree on the current `gradients`, best-first. Returns false
  /// (and leaves `leaves`/`nodes` describing a single leaf) if the root
  /// cannot be split. Afterwards `leaves[k]` holds the rows
  /// `indices[begin ..< begin + count]` of leaf `k`, and `nodes` the tree
  /// (root first).
  ///
  /// - Complexity: O(rows · features) for the root histogram, plus, per
  ///   split, O(parent rows) to partition and O(smaller child rows ·
  ///   features) to histogram (the larger child is parent − smaller), plus
  ///   O(features · bins) to search each new leaf's splits.
  mutating func grow() -> Bool {
    leaves.removeAll(keepingCapacity: true)
    nodes.removeAll(keepingCapacity: true)
    let idx = indices.baseAddress!  // capacity ≥ 1, see the type's note
    for i in 0..<rows { idx[i] = Int32(truncatingIfNeeded: i) }
    var g = 0.0, h = 0.0
    let gh = gradients.baseAddress!  // capacity ≥ 2, see the type's note
    for i in 0..<rows {
      g += gh[2 * i]
      h += gh[2 * i + 1]
    }
    nodes.append(Node(leaf: 0))
    leaves.append(Leaf(begin: 0, count: rows, depth: 0, node: 0, gradient: g, hessian: h, slot: 0))
    if canSplit(leaves[0]) {
      buildHistogram(slot: 0, begin: 0, count: rows)
      leaves[0].best = bestSplit(leaves[0])
    }
    if leaves[0].best.feature < 0 { return false }

    while leaves.count < options.maximumLeaves {
      var chosen = -1
      var bestGain = 0.0
      for (k, leaf) in leaves.enumerated() where leaf.best.feature >= 0 && leaf.best.gain > bestGain {
        chosen = k
        bestGain = leaf.best.gain
      }
      if chosen < 0 { break }
      split(leaf: chosen)
    }
    return true
  }

  /// Whether a leaf may still be split (depth and size limits).
  func canSplit(_ leaf: Leaf) -> Bool {
    leaf.depth < options.maximumDepth && leaf.count >= 2 * options.minimumLeafCount
  }

  /// Splits leaf `p` by its best split: the left child keeps index `p`, the
  /// right child is appended.
  mutating func split(leaf p: Int) {
    let parent = leaves[p]
    let s = parent.best
    let leftCount = partition(
      begin: parent.begin, count: parent.count, feature: s.feature, bin: s.bin, missingLeft: s.missingLeft)
    precondition(Double(leftCount) == s.leftCount, "partition disagrees with the histogram")

    let leftNode = nodes.count, rightNode = nodes.count + 1
    let r = leaves.count
    nodes[parent.node].feature = s.feature
    nodes[parent.node].bin = s.bin
    nodes[parent.node].missingLeft = s.missingLeft
    nodes[parent.node].left = leftNode
    nodes[parent.node].right = rightNode
    nodes[parent.node].leaf = -1
    nodes[parent.node].gain = s.gain
    nodes.append(Node(leaf: p))
    nodes.append(Node(leaf: r))

    var left = Leaf(
      begin: parent.begin, count: leftCount, depth: parent.depth + 1, node: leftNode,
      gradient: s.leftGradient, hessian: s.leftHessian, slot: -1)
    var right = Leaf(
      begin: parent.begin + leftCount, count: parent.count - leftCount, depth: parent.depth + 1, node: rightNode,
      gradient: parent.gradient - s.leftGradient, hessian: parent.hessian - s.leftHessian, slot: -1)

    // Histograms only if another split can follow: build the smaller child
    // into a free slot, turn the parent's into the larger by subtraction.
    let morePossible = leaves.count + 1 < options.maximumLeaves
    if morePossible && (canSplit(left) || canSplit(right)) {
      let freeSlot = leaves.count  // slots 0..<leaves.count are taken by the leaves
      let leftSmaller = left.count <= right.count
      if leftSmaller {
        buildHistogram(slot: freeSlot, begin: left.begin, count: left.count, )
        subtractHistogram(from: parent.slot, freeSlot)
        left.slot = freeSlot
        right.slot = parent.slot
      } else {
        buildHistogram(slot: freeSlot, begin: right.begin, count: right.count, )
        subtractHistogram(from: parent.slot, freeSlot)
        right.slot = freeSlot
        left.slot = parent.slot
      }
      if canSplit(left) { left.best = bestSplit(left) }
      if canSplit(right) { right.best = bestSplit(right) }
    } else {
      // Keep the slot numbering dense: the parent's slot passes to the left.
      left.slot = parent.slot
      right.slot = leaves.count
    }
    leaves[p] = left
    leaves.append(right)
  }

  // MARK: - Kernels

  /// Histogram of the rows `indices[begin ..< begin + count]` into `slot`:
  /// for every splittable feature and bin, (Σg, Σh, rows) in row order.
  ///
  /// - Complexity: O(count · features); parallel over features when large.
  func buildHistogram(slot: Int, begin: Int, count: Int) {
    // The root's rows are all rows in order: no index indirection, and
    // its counts are known (`rootCounts`).
    let root = count == rows
    let idx: UnsafePointer<Int32>? =
      root ? nil : UnsafePointer(indices.baseAddress! + begin)  // capacity ≥ 1, see the type's note
    let known = UnsafePointer(rootCounts.baseAddress!)  // capacity ≥ 1, see the type's note
    let gh = UnsafePointer(gradients.baseAddress! + 2 * begin)  // capacity ≥ 2, see the type's note
    let hist = histograms.baseAddress! + slot * featureCount * stride * 3  // capacity ≥ 1, see the type's note
    let binBase = UnsafePointer(bins.baseAddress!)  // capacity ≥ 1, see the type's note
    let rows = self.rows, stride = self.stride, features = splitFeatures
    let work = { (range: Range<Int>) in
      var k = range.lowerBound
      while k + 4 <= range.upperBound {
        let f0 = features[k], f1 = features[k + 1], f2 = features[k + 2], f3 = features[k + 3]
        Self.accumulate4(
          columns: (binBase + f0 * rows, binBase + f1 * rows, binBase + f2 * rows, binBase + f3 * rows),
          indices: idx, gradients: gh, count: count,
          histograms: (hist + f0 * stride * 3, hist + f1 * stride * 3, hist + f2 * stride * 3, hist + f3 * stride * 3),
          stride: stride,
          counts: root ? (known + f0 * stride, known + f1 * stride, known + f2 * stride, known + f3 * stride) : nil)
        k += 4
      }
      while k < range.upperBound {
        let f = features[k]
        Self.accumulate(
          column: binBase + f * rows, indices: idx, gradients: gh, count: count,
          histogram: hist + f * stride * 3, stride: stride, counts: root ? known + f * stride : nil)
        k += 1
      }
    }
    // Whole features per thread; blocks of 4 features per pass over the rows.
    let chunks = min(threads, (features.count + 3) / 4)
    if chunks > 1 && count * features.count >= 200_000 {
      Parallel.forEachChunk(count: features.count, chunkCount: chunks) { _, range in work(range) }
    } else {
      work(0..<features.count)
    }
  }

  /// One feature's histogram: zeroes `stride` bins of (g, h, count), then
  /// adds row `i` (of `count`, in order) to bin `column[indices[i]]` (or
  /// `column[i]` without indices) with gradients `gradients[2i], [2i+1]`.
  /// With `counts` (the rows' count per bin, known beforehand) the rows'
  /// (g, h) are added and the counts copied: one store a row instead of two.
  ///
  /// - Complexity: O(count + stride).
  @inline(__always)
  static func accumulate(
    column: UnsafePointer<UInt8>, indices: UnsafePointer<Int32>?, gradients gh: UnsafePointer<Double>,
    count: Int, histogram h: UnsafeMutablePointer<Double>, stride: Int, counts: UnsafePointer<Double>? = nil
  ) {
    h.update(repeating: 0, count: stride * 3)
    @inline(__always) func addRows(counting: Bool) {
      if let idx = indices {
        for i in 0..<count { add(pair(gh, i), to: h, bin: Int(column[Int(idx[i])]), counting: counting) }
      } else {
        for i in 0..<count { add(pair(gh, i), to: h, bin: Int(column[i]), counting: counting) }
      }
    }
    if let counts {
      addRows(counting: false)
      copy(counts, to: h, stride: stride)
    } else {
      addRows(counting: true)
    }
  }

  /// Writes `counts[0 ..< stride]` to the count lanes of histogram `h`.
  @inline(__always)
  static func copy(_ counts: UnsafePointer<Double>, to h: UnsafeMutablePointer<Double>, stride: Int) {
    for b in 0..<stride { h[b &* 3 &+ 2] = counts[b] }
  }

  /// Row `i`'s (g, h) pair, `gradients[2i], [2i+1]`, as one vector.
  @inline(__always)
  static func pair(_ gradients: UnsafePointer<Double>, _ i: Int) -> SIMD2<Double> {
    UnsafeRawPointer(gradients + 2 &* i).loadUnaligned(as: SIMD2<Double>.self)
  }

  /// Adds a row's (g, h) pair and, if `counting`, a count of 1 to `bin` of
  /// the histogram `h`: g and h as one two-lane vector, added at once (each
  /// lane the same IEEE addition as alone), so a row costs two additions,
  /// two loads and two stores a bin instead of three.
  @inline(__always)
  static func add(_ pair: SIMD2<Double>, to h: UnsafeMutablePointer<Double>, bin: Int, counting: Bool) {
    let at = UnsafeMutableRawPointer(h + bin &* 3)
    at.storeBytes(of: at.loadUnaligned(as: SIMD2<Double>.self) + pair, as: SIMD2<Double>.self)
    if counting { h[bin &* 3 &+ 2] += 1 }
  }

  /// `accumulate` for four features in one pass over the rows: the index and
  /// gradients are loaded once, and four independent histograms keep the
  /// additions from waiting on each other. Each bin is still summed in row
  /// order. `counts`, if given, are the four features' counts per bin.
  ///
  /// - Complexity: O(count + stride).
  @inline(__always)
  static func accumulate4(
    columns c: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>),
    indices: UnsafePointer<Int32>?, gradients gh: UnsafePointer<Double>, count: Int,
    histograms h: (
      UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
      UnsafeMutablePointer<Double>
    ),
    stride: Int,
    counts: (UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>)? = nil
  ) {
    h.0.update(repeating: 0, count: stride * 3)
    h.1.update(repeating: 0, count: stride * 3)
    h.2.update(repeating: 0, count: stride * 3)
    h.3.update(repeating: 0, count: stride * 3)
    @inline(__always) func addRow(_ r: Int, _ i: Int, counting: Bool) {
      let p = pair(gh, i)
      add(p, to: h.0, bin: Int(c.0[r]), counting: counting)
      add(p, to: h.1, bin: Int(c.1[r]), counting: counting)
      add(p, to: h.2, bin: Int(c.2[r]), counting: counting)
      add(p, to: h.3, bin: Int(c.3[r]), counting: counting)
    }
    @inline(__always) func addRows(counting: Bool) {
      if let idx = indices {
        for i in 0..<count { addRow(Int(idx[i]), i, counting: counting) }
      } else {
        for i in 0..<count { addRow(i, i, counting: counting) }
      }
    }
    if let counts {
      addRows(counting: false)
      copy(counts.0, to: h.0, stride: stride)
      copy(counts.1, to: h.1, stride: stride)
      copy(counts.2, to: h.2, stride: stride)
      copy(counts.3, to: h.3, stride: stride)
    } else {
      addRows(counting: true)
    }
  }

  /// Histogram subtraction: the larger child's histogram is the parent's
  /// minus the smaller child's, computed in place in the parent's slot
  /// (counts stay exact integers; g and h sums are exact up to rounding).
  ///
  /// - Complexity: O(features · stride).
  func subtractHistogram(from parent: Int, _ smaller: Int) {
    let size = featureCount * stride * 3
    let p = histograms.baseAddress! + parent * size  // capacity ≥ 1, see the type's note
    let s = histograms.baseAddress! + smaller * size  // capacity ≥ 1, see the type's note
    for i in 0..<size { p[i] -= s[i] }
  }

  /// The best split of `leaf` from its histogram: every splittable feature,
  /// every boundary `k` (value bins `1…k` left), missing rows left or right.
  /// Gain `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)` must be positive, both
  /// children need `minimumLeafCount` rows and `minimumLeafHessian`. Ties go
  /// to the lowest feature, then the lowest bin, then missing right. A node
  /// without missing rows sends missing values to its larger child.
  ///
  /// - Complexity: O(features · bins).
  func bestSplit(_ leaf: Leaf) -> Split {
    let lambda = options.l2
    let minCount = Double(options.minimumLeafCount)
    let minHessian = options.minimumLeafHessian
    let G = leaf.gradient, H = leaf.hessian, C = Double(leaf.count)
    let parentScore = G * G / (H + lambda)
    var best = Split()
    let base = histograms.baseAddress! + leaf.slot * featureCount * stride * 3  // capacity ≥ 1, see the type's note
    for f in 0..<featureCount where splittable[f] {
      let h = base + f * stride * 3
      let mG = h[0], mH = h[1], mC = h[2]
      let last = valueBins[f]
      var lg = 0.0, lh = 0.0, lc = 0.0
      for k in 1...last {
        lg += h[3 * k]
        lh += h[3 * k + 1]
        lc += h[3 * k + 2]
        if k == last && mC == 0 { break }
        // Missing rows right (side 0), then left (side 1), so right wins ties.
        for side in 0..<2 {
          let missingLeft = side == 1
          if missingLeft && (mC == 0 || k == last) { continue }
          var gl = lg, hl = lh, cl = lc
          if missingLeft { gl += mG; hl += mH; cl += mC }
          let cr = C - cl
          if cl < minCount || cr < minCount { continue }
          let gr = G - gl, hr = H - hl
          if hl < minHessian || hr < minHessian { continue }
          let gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parentScore
          if gain > best.gain {
            best = Split(
              gain: gain, feature: f, bin: k,
              missingLeft: mC == 0 ? cl >= cr : missingLeft,
              leftGradient: gl, leftHessian: hl, leftCount: cl)
          }
        }
      }
    }
    return best
  }

  /// Stable partition of `indices[begin ..< begin + count]` and of their
  /// gradient pairs: rows whose bin of `feature` is in `1…bin` (or missing,
  /// if `missingLeft`) first, each side in its original order. Returns the
  /// left count. Branch-free: every row is written to both sides' cursors and
  /// only the cursor of its side advances.
  ///
  /// - Complexity: O(count).
  func partition(begin: Int, count: Int, feature: Int, bin: Int, missingLeft: Bool) -> Int {
    let idx = indices.baseAddress! + begin  // capacity ≥ 1, see the type's note
    let gh = gradients.baseAddress! + 2 * begin  // capacity ≥ 2, see the type's note
    let tmp = scratch.baseAddress!  // capacity ≥ 1, see the type's note
    let tmpGH = gradientScratch.baseAddress!  // capacity ≥ 2, see the type's note
    let column = UnsafePointer(bins.baseAddress! + feature * rows)  // capacity ≥ 1, see the type's note
    let k = UInt8(truncatingIfNeeded: bin)
    let missing = missingLeft ? 1 : 0
    var l = 0, r = 0
    for i in 0..<count {
      let row = idx[i]
      let g = gh[2 &* i], h = gh[2 &* i &+ 1]
      let b = column[Int(row)]
      // b ≤ k for value bins (b − 1 < k; the missing bin 0 wraps to 255 ≥ k).
      let left = ((b &- 1) < k ? 1 : 0) | ((b == 0 ? 1 : 0) & missing)
      idx[l] = row; gh[2 &* l] = g; gh[2 &* l &+ 1] = h
      tmp[r] = row; tmpGH[2 &* r] = g; tmpGH[2 &* r &+ 1] = h
      l &+= left
      r &+= 1 &- left
    }
    (idx + l).update(from: tmp, count: r)
    (gh + 2 * l).update(from: tmpGH, count: 2 * r)
    return l
  }

  /// Adds `value(leaf)` to `scores[row]` for every row of every leaf.
  ///
  /// - Complexity: O(rows).
  func addLeafValues(_ values: [Double], to scores: inout [Double]) {
    let idx = indices.baseAddress!  // capacity ≥ 1, see the type's note
    scores.withUnsafeMutableBufferPointer { f in
      for (k, leaf) in leaves.enumerated() {
        let v = values[k]
        for i in leaf.begin..<(leaf.begin + leaf.count) { f[Int(idx[i])] += v }
      }
    }
  }

  /// Median over the rows of `leaf` of `yᵢ − Fᵢ` (the mean of the two middle
  /// values for an even count; 0 for an empty leaf).
  ///
  /// - Complexity: O(count) expected (quickselect).
  func medianResidual(_ leaf: Leaf, labels: [Double], scores: [Double]) -> Double {
    guard leaf.count > 0 else { return 0 }
    let idx = indices.baseAddress! + leaf.begin  // capacity ≥ 1, see the type's note
    let a = residuals.baseAddress!  // capacity ≥ 1, see the type's note
    labels.withUnsafeBufferPointer { y in
      scores.withUnsafeBufferPointer { f in
        for i in 0..<leaf.count {
          let r = Int(idx[i])
          a[i] = y[r] - f[r]
        }
      }
    }
    return Selection.median(a, count: leaf.count)
  }
}
