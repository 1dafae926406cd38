import Synchronization

extension GradientBoostedTrees {
  /// Fits the ensemble (see the type's documentation for the mathematics).
  ///
  /// Fits running at once (the propensity windows are fitted concurrently)
  /// share the cores: each parallel step of a fit uses the cores divided by
  /// the fits running when it starts (`Threads`), so while two fits run
  /// each keeps to one core, and the last one takes them all.
  ///
  /// - Parameters:
  ///   - features: row-major `labels.count × featureCount`; NaN = missing.
  ///   - labels: in [0, 1] for `.logistic`, finite for `.absoluteError`.
  ///   - validation: held-out rows for early stopping and `validationLoss`.
  /// - Complexity: O(features · rows · log rows) to bin, then per tree
  ///   O(rows · features · (1 + Σ splits' smaller-child share)) ≈
  ///   O(rows · features · log leaves), plus O(validation rows · depth).
  static func fit(
    features: [Double], featureCount: Int, labels: [Double], options: Options,
    validation: (features: [Double], labels: [Double])? = nil
  ) -> GradientBoostedTrees {
    fit(
      features: features, featureCount: featureCount, labels: labels, options: options,
      validation: validation, threads: Threads())
  }

  /// `fit` on `threads` threads (a test hook: the model does not depend on it).
  static func fit(
    features: [Double], featureCount: Int, labels: [Double], options: Options,
    validation: (features: [Double], labels: [Double])?, threads: Int
  ) -> GradientBoostedTrees {
    fit(
      features: features, featureCount: featureCount, labels: labels, options: options,
      validation: validation, threads: Threads(fixed: threads))
  }

  /// Fits running in this process (`fit` counts itself in while it runs).
  static let runningFits = Atomic<Int>(0)

  /// How many threads a fit's parallel steps use: `fixed`, or the cores
  /// divided among the fits running now. Two propensity fits, each with
  /// parallel steps on both cores, kept the cores 70–88% busy at 10M rows
  /// (every step waits for its slowest part, while the other fit's steps
  /// hold a core); each fit on one thread used 7% fewer samples (at 1M
  /// rows), but the longer fit then finished alone on one core.
  struct Threads: Sendable {
    var fixed: Int?

    /// The count for a step starting now: the model does not depend on it.
    var now: Int {
      fixed.map { max(1, $0) } ?? max(1, Parallel.coreCount / max(1, runningFits.load(ordering: .relaxed)))
    }
  }

  private static func fit(
    features: [Double], featureCount: Int, labels: [Double], options: Options,
    validation: (features: [Double], labels: [Double])?, threads: Threads
  ) -> GradientBoostedTrees {
    runningFits.add(1, ordering: .relaxed)
    defer { runningFits.subtract(1, ordering: .relaxed) }
    options.validate()
    precondition(featureCount >= 0, "featureCount must be non-negative")
    let rows = labels.count
    precondition(features.count == rows * featureCount, "features must be labels.count × featureCount")
    precondition(rows <= Int(Int32.max), "at most Int32.max rows (row indices are Int32)")
    Self.checkLabels(labels, options.objective)
    if let v = validation {
      precondition(v.features.count == v.labels.count * featureCount, "validation features must be rows × featureCount")
      Self.checkLabels(v.labels, options.objective)
    }

    let binning = GradientBoostedTreesBinning(
      features: features, featureCount: featureCount, rows: rows, maximumBins: options.bins, threads: threads.now)
    let f0 = initialScore(labels: labels, objective: options.objective)
    var scores = [Double](repeating: f0, count: rows)
    var validationScores = [Double](repeating: f0, count: validation?.labels.count ?? 0)

    var treeRoots: [Int32] = []
    var nodeFeature: [Int32] = [], nodeThreshold: [Double] = [], nodeMissingLeft: [Bool] = []
    var nodeLeft: [Int32] = [], nodeRight: [Int32] = [], nodeValue: [Double] = []
    var gain = [Double](repeating: 0, count: featureCount)

    var bestLoss = validation.map { meanLoss(labels: $0.labels, scores: validationScores, options.objective) }
    var bestRound = 0
    var bestGain = gain
    var lastLoss = bestLoss

    // The held-out rows binned once with the training edges: a split
    // "x ≤ e_k" is "bin ≤ k" (see `GradientBoostedTreesBinning`), so each
    // round scores them by byte compares on the grown tree.
    let heldOut = validation.map { binning.rowMajorBins(of: $0.features, featureCount: featureCount) } ?? []
    var heldOutLosses = [Double](repeating: 0, count: validation?.labels.count ?? 0)

    var grower = GradientBoostedTreesGrower(
      binning: binning, featureCount: featureCount, options: options, threads: threads)
    defer { grower.deallocate() }
    var leafValues: [Double] = []

    for round in stride(from: 1, through: options.maximumTrees, by: 1) {
      grower.computeGradients(scores: scores, labels: labels)
      if !grower.grow() { break }

      // Leaf values: Newton step, or the residual median for absolute error.
      leafValues.removeAll(keepingCapacity: true)
      for leaf in grower.leaves {
        switch options.objective {
        case .logistic:
          let d = leaf.hessian + options.l2
          leafValues.append(d > 0 ? -options.learningRate * leaf.gradient / d : 0)
        case .absoluteError:
          leafValues.append(options.learningRate * grower.medianResidual(leaf, labels: labels, scores: scores))
        }
      }
      grower.addLeafValues(leafValues, to: &scores)

      // Append the tree in flat form, children as absolute node indices.
      let root = nodeFeature.count
      treeRoots.append(Int32(truncatingIfNeeded: root))
      for node in grower.nodes {
        if node.feature >= 0 {
          let edges = binning.edges[node.feature]
          nodeFeature.append(Int32(truncatingIfNeeded: node.feature))
          nodeThreshold.append(node.bin <= edges.count ? edges[node.bin - 1] : .greatestFiniteMagnitude)
          nodeMissingLeft.append(node.missingLeft)
          nodeLeft.append(Int32(truncatingIfNeeded: root + node.left))
          nodeRight.append(Int32(truncatingIfNeeded: root + node.right))
          nodeValue.append(0)
          gain[node.feature] += node.gain
        } else {
          nodeFeature.append(-1)
          nodeThreshold.append(0)
          nodeMissingLeft.append(false)
          nodeLeft.append(-1)
          nodeRight.append(-1)
          nodeValue.append(leafValues[node.leaf])
        }
      }

      guard let v = validation else { continue }
      let loss = scoreHeldOut(
        tree: grower.nodes, leafValues: leafValues, bins: heldOut, featureCount: featureCount, labels: v.labels,
        scores: &validationScores, losses: &heldOutLosses, objective: options.objective, threads: threads.now)
      lastLoss = loss
      if options.earlyStoppingRounds == 0 { continue }
      if let best = bestLoss, loss < best {
        bestLoss = loss
        bestRound = round
        bestGain = gain
      } else if round - bestRound >= options.earlyStoppingRounds {
        break
      }
    }

    var keptTrees = treeRoots.count
    var validationLoss = lastLoss
    if validation != nil && options.earlyStoppingRounds > 0 {
      keptTrees = bestRound
      validationLoss = bestLoss
      gain = bestGain
    }
    let keptNodes = keptTrees < treeRoots.count ? Int(treeRoots[keptTrees]) : nodeFeature.count
    return GradientBoostedTrees(
      options: options, featureCount: featureCount, initialScore: f0,
      treeRoots: Array(treeRoots.prefix(keptTrees)),
      nodeFeature: Array(nodeFeature.prefix(keptNodes)),
      nodeThreshold: Array(nodeThreshold.prefix(keptNodes)),
      nodeMissingLeft: Array(nodeMissingLeft.prefix(keptNodes)),
      nodeLeft: Array(nodeLeft.prefix(keptNodes)),
      nodeRight: Array(nodeRight.prefix(keptNodes)),
      nodeValue: Array(nodeValue.prefix(keptNodes)),
      validationLoss: validationLoss,
      featureGain: gain)
  }

  /// Labels must be finite, and in [0, 1] for the logistic objective.
  static func checkLabels(_ labels: [Double], _ objective: Objective) {
    for y in labels {
      precondition(y.isFinite, "labels must be finite")
      if objective == .logistic { precondition(y >= 0 && y <= 1, "logistic labels must be in [0, 1]") }
    }
  }

  /// F₀: `log(p̄/(1−p̄))`, `p̄` the mean label clamped to [1e-15, 1 − 1e-15]
  /// (0 without rows), or the median label (0 without rows).
  ///
  /// - Complexity: O(rows).
  static func initialScore(labels: [Double], objective: Objective) -> Double {
    guard !labels.isEmpty else { return 0 }
    switch objective {
    case .logistic:
      var sum = 0.0
      for y in labels { sum += y }
      let p = min(max(sum / Double(labels.count), 1e-15), 1 - 1e-15)
      return Double.log(p / (1 - p))
    case .absoluteError:
      var copy = labels
      return copy.withUnsafeMutableBufferPointer { a in
        Selection.median(a.baseAddress!, count: a.count)  // non-empty (guarded above)
      }
    }
  }

  /// Mean loss (log loss or absolute error) of `scores`; 0 without rows.
  ///
  /// - Complexity: O(rows).
  static func meanLoss(labels: [Double], scores: [Double], _ objective: Objective) -> Double {
    guard !labels.isEmpty else { return 0 }
    var sum = 0.0
    for i in 0..<labels.count { sum += loss(objective, label: labels[i], score: scores[i]) }
    return sum / Double(labels.count)
  }

  /// Adds the leaf value of `tree` (the grower's nodes, leaves valued by
  /// `leafValues`) to each held-out row's score and returns the rows' mean
  /// loss: `meanLoss` of the new scores. `bins` are the rows' bins, row-major
  /// (`GradientBoostedTreesBinning.rowMajorBins`); a row goes left where its
  /// bin is in `1…bin`, or missing with `missingLeft`, which is where the
  /// fitted tree's threshold `e_bin` sends its value.
  ///
  /// The rows are independent, so fixed chunks of them are scored in
  /// parallel, each row's loss stored; the losses are then summed in row
  /// order, as `meanLoss` sums them, on any thread count.
  ///
  /// - Complexity: O(rows · depth).
  static func scoreHeldOut(
    tree: [GradientBoostedTreesGrower.Node], leafValues: [Double], bins: [UInt8], featureCount: Int,
    labels: [Double], scores: inout [Double], losses: inout [Double], objective: Objective, threads: Int
  ) -> Double {
    let n = labels.count
    guard n > 0 else { return 0 }
    let chunks = min(max(1, threads), max(1, n / 4096))
    tree.withUnsafeBufferPointer { tree in
      leafValues.withUnsafeBufferPointer { leafValues in
        bins.withUnsafeBufferPointer { bins in
          labels.withUnsafeBufferPointer { y in
            scores.withUnsafeMutableBufferPointer { f in
              losses.withUnsafeMutableBufferPointer { losses in
                Parallel.forEachChunk(count: n, chunkCount: chunks) { _, range in
                  for i in range {
                    var node = tree[0]
                    while node.feature >= 0 {
                      let b = Int(bins[i &* featureCount &+ node.feature])
                      let goLeft = b == 0 ? node.missingLeft : b <= node.bin
                      node = tree[goLeft ? node.left : node.right]
                    }
                    f[i] += leafValues[node.leaf]
                    losses[i] = loss(objective, label: y[i], score: f[i])
                  }
                }
              }
            }
          }
        }
      }
    }
    var sum = 0.0
    for l in losses { sum += l }
    return sum / Double(n)
  }
}
