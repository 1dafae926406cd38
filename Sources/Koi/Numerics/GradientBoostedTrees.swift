import RealModule

/// A histogram gradient-boosted decision tree ensemble (LightGBM-style,
/// leaf-wise growth), used to predict repurchase probabilities (logistic)
/// and days to the next purchase (absolute error, a conditional median).
///
/// The model is an additive score over `T` regression trees,
/// ```
///   F(x) = F₀ + Σ_{t=1…T} f_t(x),
///   prediction = σ(F(x)) = 1 / (1 + e^{−F(x)})   (.logistic)
///   prediction = F(x)                             (.absoluteError)
/// ```
/// grown by second-order (Newton) boosting: at round `t`, with per-row
/// gradient `gᵢ = ∂ℓ/∂F` and hessian `hᵢ = ∂²ℓ/∂F²` at the current scores,
/// a tree's leaf `L` with `G = Σ_{i∈L} gᵢ`, `H = Σ_{i∈L} hᵢ` gets the value
/// ```
///   w_L = −η · G / (H + λ)                        (η = learningRate, λ = l2)
/// ```
/// and a split of a node into left and right children gains
/// ```
///   gain = G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ).
/// ```
/// Objectives (`y` the label, `p = σ(F)`):
/// - `.logistic`, log loss `ℓ = −y log p − (1−y) log(1−p)`: `g = p − y`,
///   `h = p(1−p)`; `F₀ = log(p̄/(1−p̄))` with `p̄` the mean training label
///   (clamped to [1e-15, 1 − 1e-15]).
/// - `.absoluteError`, `ℓ = |y − F|`: `g = sign(F − y)`, `h = 1`, `F₀` the
///   median label. After a tree is grown on these, each leaf's value is
///   renewed to `η · median_{i∈L}(yᵢ − Fᵢ)` (LightGBM's L1 leaf renewal), so
///   the model is a sum of medians and robust to heavy-tailed labels.
///
/// Growth is best-first: the leaf whose best split gains most is split next,
/// until `maximumLeaves` leaves, or no split with positive gain satisfies
/// `maximumDepth`, `minimumLeafCount` rows and `minimumLeafHessian` in both
/// children. Boosting stops early when a tree cannot split its root, or when
/// the validation loss has not improved for `earlyStoppingRounds` rounds;
/// the model keeps the trees of the best round (possibly none).
///
/// Features are binned once into at most `bins` quantile bins plus a missing
/// bin (see `GradientBoostedTreesBinning`). Missing values (NaN) are routed
/// at each split to the side with the larger gain, and the choice is stored
/// in the node; if a node had no missing rows in training, missing values go
/// to the child with more training rows.
///
/// Deterministic: no randomness, splits compared by gain with ties to the
/// lowest feature then the lowest bin, and every histogram bin summed in row
/// order by one thread (histograms are parallel over features, not rows), so
/// the fitted model is bit-identical for any thread count.
struct GradientBoostedTrees: Codable, Sendable, Equatable {
  enum Objective: String, Codable, Sendable {
    /// Binary labels in [0, 1], log loss; predicts probabilities.
    case logistic
    /// Real labels, mean absolute error; predicts conditional medians.
    case absoluteError = "absolute_error"
  }

  public struct Options: Codable, Sendable, Equatable {
    var objective: Objective = .logistic
    /// Boosting rounds at most.
    var maximumTrees = 400
    /// η, the shrinkage applied to every leaf value.
    var learningRate = 0.05
    /// Leaves per tree at most (leaf-wise, best-first growth).
    var maximumLeaves = 31
    /// Depth of a leaf at most (the root has depth 0).
    var maximumDepth = 8
    /// Training rows per leaf at least.
    var minimumLeafCount = 50
    /// Σ h per leaf at least.
    var minimumLeafHessian = 1e-3
    /// λ, the L2 penalty on leaf values.
    var l2 = 1.0
    /// Value bins per feature at most (2…255), quantile cut points; missing
    /// values have a bin of their own.
    var bins = 64
    /// Stop when the validation loss has not improved for this many rounds
    /// (used only with a validation set; 0 disables early stopping).
    var earlyStoppingRounds = 30

    init() {}

    init(objective: Objective) { self.objective = objective }

    /// Checks that the options describe a model that can be fitted
    /// (programmer errors trap).
    func validate() {
      precondition(maximumTrees >= 0, "maximumTrees must be non-negative")
      precondition(learningRate > 0 && learningRate.isFinite, "learningRate must be positive")
      precondition(maximumLeaves >= 2, "maximumLeaves must be at least 2")
      precondition(maximumDepth >= 1, "maximumDepth must be at least 1")
      precondition(minimumLeafCount >= 1, "minimumLeafCount must be at least 1")
      precondition(minimumLeafHessian >= 0, "minimumLeafHessian must be non-negative")
      precondition(l2 >= 0 && l2.isFinite, "l2 must be non-negative")
      precondition(bins >= 2 && bins <= 255, "bins must be in 2…255")
      precondition(earlyStoppingRounds >= 0, "earlyStoppingRounds must be non-negative")
    }
  }

  let options: Options
  let featureCount: Int
  /// F₀, the initial score (log-odds or median).
  let initialScore: Double
  /// Index into the node arrays of each tree's root; tree `t` owns the nodes
  /// `treeRoots[t] ..< treeRoots[t + 1]` (or the end).
  let treeRoots: [Int32]
  /// Per node: the feature split on, or −1 for a leaf.
  let nodeFeature: [Int32]
  /// Per node: rows with `x[feature] ≤ threshold` go left (infinite values
  /// compare as ±greatestFiniteMagnitude).
  let nodeThreshold: [Double]
  /// Per node: whether missing (NaN) values go left.
  let nodeMissingLeft: [Bool]
  /// Per node: absolute indices of the children (−1 for a leaf).
  let nodeLeft: [Int32]
  let nodeRight: [Int32]
  /// Per node: the leaf value, learning rate included (0 for internal nodes).
  let nodeValue: [Double]
  /// Mean validation loss (log loss or absolute error) at the kept round, or
  /// nil without a validation set.
  let validationLoss: Double?
  /// Total split gain per feature over the kept trees (importance).
  let featureGain: [Double]

  /// Number of trees kept (the best round's count after early stopping).
  var treeCount: Int { treeRoots.count }

  // MARK: - Prediction

  /// Predictions for row-major `features` (`rows × featureCount`): the
  /// probability `σ(F(x))` for `.logistic`, the score `F(x)` for
  /// `.absoluteError`. NaN features follow each node's missing direction.
  /// With `featureCount == 0` the row count cannot be known and the result
  /// is empty (the prediction of such a model is the constant `F₀`).
  ///
  /// - Complexity: O(rows · Σ_t depth_t).
  func predict(features: [Double], featureCount: Int) -> [Double] {
    precondition(featureCount == self.featureCount, "predict needs the features the model was fitted on")
    guard featureCount > 0 else { return [] }
    precondition(features.count % featureCount == 0, "features must be rows × featureCount")
    return CompiledTrees(self)?.predict(features: features) ?? predictByWalking(features: features)
  }

  /// `predict` by walking the fitted node arrays: the reference for
  /// `CompiledTrees` and the route for models it cannot hold.
  ///
  /// - Complexity: O(rows · Σ_t depth_t).
  func predictByWalking(features: [Double]) -> [Double] {
    let rows = features.count / featureCount
    let nodes = packedNodes()
    let logistic = options.objective == .logistic
    var out = [Double](repeating: 0, count: rows)
    nodes.withUnsafeBufferPointer { nodes in
      features.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { out in
          for i in 0..<rows {
            // F(x): the initial score plus each tree's leaf, in tree order
            // (the order `fit` sums the validation scores in).
            var score = initialScore
            let row = i * featureCount
            for root in treeRoots {
              var node = nodes[Int(root)]
              while node.feature >= 0 {
                let v = x[row + Int(node.feature)]
                let goLeft = v.isNaN ? node.missingLeft : GradientBoostedTreesBinning.clamped(v) <= node.threshold
                node = nodes[Int(goLeft ? node.left : node.right)]
              }
              score += node.value
            }
            out[i] = logistic ? Self.sigmoid(score) : score
          }
        }
      }
    }
    return out
  }

  /// One node of the flat tree arrays, packed for prediction.
  struct PackedNode {
    var feature: Int32
    var left: Int32
    var right: Int32
    var missingLeft: Bool
    var threshold: Double
    var value: Double
  }

  /// The node arrays as one array of `PackedNode`: one bounds-checked load
  /// per step of a walk instead of six.
  ///
  /// - Complexity: O(nodes).
  func packedNodes() -> [PackedNode] {
    nodeFeature.indices.map {
      PackedNode(
        feature: nodeFeature[$0], left: nodeLeft[$0], right: nodeRight[$0], missingLeft: nodeMissingLeft[$0],
        threshold: nodeThreshold[$0], value: nodeValue[$0])
    }
  }

  // MARK: - Losses

  /// σ(F) = 1/(1 + e^{−F}), evaluated without overflow.
  @inline(__always)
  static func sigmoid(_ f: Double) -> Double {
    if f >= 0 { return 1 / (1 + Double.exp(-f)) }
    let e = Double.exp(f)
    return e / (1 + e)
  }

  /// The loss of one row at score `f`: log loss
  /// `y · softplus(−F) + (1 − y) · softplus(F)` with softplus(z) =
  /// log(1 + e^z) (= −y log p − (1−y) log(1−p), exact for any F), or
  /// `|y − F|`.
  ///
  /// The two softplus terms share `log(1 + e^{−|F|})` (|−F| = |F|), taken
  /// once here: the compiler merged the two calls where the losses were
  /// summed in a loop of their own, not inside the held-out scoring loop.
  @inline(__always)
  static func loss(_ objective: Objective, label y: Double, score f: Double) -> Double {
    switch objective {
    case .logistic:
      let tail = Double.log(onePlus: Double.exp(-abs(f)))
      return y * (max(-f, 0) + tail) + (1 - y) * (max(f, 0) + tail)
    case .absoluteError: return abs(y - f)
    }
  }
}
