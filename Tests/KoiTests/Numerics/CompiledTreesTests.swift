import Testing

@testable import Koi

@Suite struct CompiledTreesTests {
  typealias GBT = GradientBoostedTrees

  /// `trees` random trees over `d` features: each grows from a leaf by
  /// splitting a random leaf above `maximumDepth` until it has `leaves`
  /// leaves (or none is left to split), so rows end at every depth from 1 to
  /// `maximumDepth`; thresholds are drawn from `thresholds`, missing values
  /// go either way.
  static func randomTrees(
    objective: GBT.Objective, trees: Int, features d: Int, leaves: Int, maximumDepth: Int, thresholds: [Double],
    seed: UInt64
  ) -> GBT {
    var rng = SeededGenerator(seed: seed)
    var feature: [Int32] = [], threshold: [Double] = [], missingLeft: [Bool] = []
    var left: [Int32] = [], right: [Int32] = [], value: [Double] = [], roots: [Int32] = []
    func leaf() -> Int {
      feature.append(-1)
      threshold.append(0)
      missingLeft.append(false)
      left.append(-1)
      right.append(-1)
      value.append(rng.normal())
      return feature.count - 1
    }
    for _ in 0..<trees {
      roots.append(Int32(leaf()))
      var open = [(node: Int(roots[roots.count - 1]), depth: 0)], count = 1
      while count < leaves, !open.isEmpty {
        let (node, depth) = open.remove(at: Int.random(in: open.indices, using: &rng))
        feature[node] = Int32(Int.random(in: 0..<d, using: &rng))
        threshold[node] = thresholds.randomElement(using: &rng) ?? 0
        missingLeft[node] = Bool.random(using: &rng)
        value[node] = 0
        let l = leaf(), r = leaf()
        left[node] = Int32(l)
        right[node] = Int32(r)
        count += 1
        if depth + 1 < maximumDepth { open += [(l, depth + 1), (r, depth + 1)] }
      }
    }
    var options = GBT.Options(objective: objective)
    options.maximumLeaves = leaves
    options.maximumDepth = maximumDepth
    return GBT(
      options: options, featureCount: d, initialScore: 0.25, treeRoots: roots, nodeFeature: feature,
      nodeThreshold: threshold, nodeMissingLeft: missingLeft, nodeLeft: left, nodeRight: right, nodeValue: value,
      validationLoss: nil, featureGain: [Double](repeating: 0, count: d))
  }

  /// The thresholds (integers, both extreme finite values, −0) and, per
  /// threshold, rows at it and on either side of it, ±0, ±∞ and missing
  /// values, shuffled into rows of `d`, more than one block of them.
  static let thresholds: [Double] = [-.greatestFiniteMagnitude, -3, -1, -0.0, 2, 5, .greatestFiniteMagnitude]

  static func rows(features d: Int, seed: UInt64) -> [Double] {
    var rng = SeededGenerator(seed: seed)
    let values =
      thresholds + thresholds.map(\.nextUp) + thresholds.map(\.nextDown) + [0, -0.0, .infinity, -.infinity, .nan, .nan]
    return (0..<(1_001 * d)).map { _ in values.randomElement(using: &rng) ?? 0 }
  }

  @Test(arguments: [GBT.Objective.logistic, .absoluteError])
  func predictionEqualsTheWalkBitForBit(objective: GBT.Objective) throws {
    let d = 5
    let x = Self.rows(features: d, seed: 31)
    for (leaves, depth) in [(2, 1), (31, 8), (32, 31), (12, 4)] {
      let trees = Self.randomTrees(
        objective: objective, trees: 30, features: d, leaves: leaves, maximumDepth: depth, thresholds: Self.thresholds,
        seed: UInt64(leaves))
      let compiled = try #require(CompiledTrees(trees))
      let walked = trees.predictByWalking(features: x)
      #expect(compiled.predict(features: x).elementsEqual(walked) { $0.bitPattern == $1.bitPattern })
    }
  }

  /// Features with many thresholds (several vectors of 8 and of heads) and
  /// rows at, beside and between them, missing in every feature in turn:
  /// ranks written feature by feature give the walk's predictions.
  @Test func manyThresholdsPredictLikeTheWalk() throws {
    let d = 3
    let many = (0..<150).map { Double($0) * 0.5 - 30 } + [-.greatestFiniteMagnitude, .greatestFiniteMagnitude]
    let values = many + many.map(\.nextUp) + many.map(\.nextDown) + [.infinity, -.infinity, .nan]
    var rng = SeededGenerator(seed: 5)
    let x = (0..<(1_500 * d)).map { _ in values.randomElement(using: &rng) ?? 0 }
    let trees = Self.randomTrees(
      objective: .logistic, trees: 40, features: d, leaves: 31, maximumDepth: 8, thresholds: many, seed: 9)
    let compiled = try #require(CompiledTrees(trees))
    #expect(compiled.headStart[1] - compiled.headStart[0] >= 2)
    let walked = trees.predictByWalking(features: x)
    #expect(compiled.predict(features: x).elementsEqual(walked) { $0.bitPattern == $1.bitPattern })
  }

  /// Splits of each kind (both children splits, either one a leaf, both
  /// leaves), each storing only the row sets of its children that are
  /// splits, and leaf numbers up to 255: the walk's predictions, for blocks
  /// full and partial.
  @Test(arguments: [(31, 8), (256, 20)])
  func splitsOfEveryKindPredictLikeTheWalk(leaves: Int, depth: Int) throws {
    let d = 4
    let trees = Self.randomTrees(
      objective: .logistic, trees: 50, features: d, leaves: leaves, maximumDepth: depth,
      thresholds: Self.thresholds, seed: 77)
    let compiled = try #require(CompiledTrees(trees))
    #expect(Set(compiled.splits.map { [$0.left >= 0, $0.right >= 0] }).count == 4)
    for rows in [1, 17, CompiledTrees.blockRows, CompiledTrees.blockRows + 33] {
      let x = Array(Self.rows(features: d, seed: UInt64(rows)).prefix(rows * d))
      let walked = trees.predictByWalking(features: x)
      #expect(compiled.predict(features: x).elementsEqual(walked) { $0.bitPattern == $1.bitPattern })
    }
  }

  @Test func treesWithMoreThan256LeavesAreWalked() {
    let d = 3
    let trees = Self.randomTrees(
      objective: .logistic, trees: 2, features: d, leaves: 300, maximumDepth: 20, thresholds: Self.thresholds, seed: 5)
    #expect(CompiledTrees(trees) == nil)
    let x = Self.rows(features: d, seed: 6)
    #expect(
      trees.predict(features: x, featureCount: d).elementsEqual(trees.predictByWalking(features: x)) {
        $0.bitPattern == $1.bitPattern
      })
  }

  @Test func branchlessRankCountsTheThresholdsBelowLikeTheBinarySearch() {
    var rng = SeededGenerator(seed: 23)
    for count in [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 200, 254] {
      let t = Array(Set((0..<count).map { _ in (rng.normal() * 40).rounded() / 2 })).sorted()
      var probes =
        t + t.map(\.nextUp) + t.map(\.nextDown) + [-.greatestFiniteMagnitude, .greatestFiniteMagnitude, 0, -0.0]
      for _ in 0..<200 { probes.append(rng.normal() * 30) }
      let vectors = CompiledTrees.vectors(t)
      let heads = CompiledTrees.heads(vectors)
      vectors.withUnsafeBufferPointer { vectors in
        heads.withUnsafeBufferPointer { heads in
          for x in probes {
            let rank = vectors.baseAddress.map { CompiledTrees.branchlessRank(of: x, in: $0, heads: heads) }
            #expect(rank == CompiledTrees.rank(of: x, in: t))
            #expect(rank == t.filter { $0 < x }.count)
          }
        }
      }
    }
  }
}
