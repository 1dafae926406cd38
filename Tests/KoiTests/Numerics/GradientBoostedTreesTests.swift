import Foundation
import RealModule
import Testing

@testable import Koi

@Suite struct GradientBoostedTreesTests {
  typealias GBT = GradientBoostedTrees

  // MARK: - Data

  /// `rows × 4` features: x0 ~ U(−3, 3), x1 ~ N(0, 1), x2 ~ U(0, 1), x3 ~
  /// N(0, 1) noise; the true probability
  /// `p = σ(2 sin x0 + x1² − 1 + 2 x0 (x2 − 0.5))` and a Bernoulli label.
  static func nonlinear(rows: Int, seed: UInt64) -> (x: [Double], y: [Double], p: [Double]) {
    var rng = SeededGenerator(seed: seed)
    var x: [Double] = [], y: [Double] = [], p: [Double] = []
    for _ in 0..<rows {
      let x0 = -3 + 6 * rng.uniform(), x1 = rng.normal(), x2 = rng.uniform(), x3 = rng.normal()
      let logit = 2 * Double.sin(x0) + x1 * x1 - 1 + 2 * x0 * (x2 - 0.5)
      let pi = GBT.sigmoid(logit)
      x += [x0, x1, x2, x3]
      p.append(pi)
      y.append(rng.uniform() < pi ? 1 : 0)
    }
    return (x, y, p)
  }

  static func logLoss(_ y: [Double], _ p: [Double]) -> Double {
    var s = 0.0
    for (yi, pi) in zip(y, p) {
      let q = min(max(pi, 1e-15), 1 - 1e-15)
      s -= yi * Double.log(q) + (1 - yi) * Double.log(1 - q)
    }
    return s / Double(y.count)
  }

  static func meanAbsoluteError(_ y: [Double], _ f: [Double]) -> Double {
    zip(y, f).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(y.count)
  }

  /// Area under the ROC curve (Mann–Whitney, ties counted one half).
  static func auc(_ y: [Double], _ score: [Double]) -> Double {
    let order = score.indices.sorted { score[$0] < score[$1] }
    var rankSumPositive = 0.0
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count && score[order[j + 1]] == score[order[i]] { j += 1 }
      let rank = Double(i + j) / 2 + 1
      for k in i...j where y[order[k]] == 1 { rankSumPositive += rank }
      i = j + 1
    }
    let positives = y.reduce(0, +), negatives = Double(y.count) - positives
    return (rankSumPositive - positives * (positives + 1) / 2) / (positives * negatives)
  }

  /// The LightGBM fixture (benchmarks/reference/gbdt_lightgbm.py).
  struct Fixture {
    struct Reference: Decodable {
      struct Logistic: Decodable {
        var rounds: Int
        var lightgbm_test_log_loss: Double
        var true_model_test_log_loss: Double
        var constant_test_log_loss: Double
      }
      struct AbsoluteError: Decodable {
        var rounds: Int
        var lightgbm_test_mae: Double
        var true_median_test_mae: Double
        var constant_test_mae: Double
      }
      var logistic: Logistic
      var absolute_error: AbsoluteError
    }
    var trainX: [Double] = [], testX: [Double] = []
    var trainBinary: [Double] = [], testBinary: [Double] = []
    var trainRegression: [Double] = [], testRegression: [Double] = []
    var reference: Reference

    init() throws {
      let dir = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/gbdt")
      reference = try JSONDecoder().decode(
        Reference.self, from: Data(contentsOf: dir.appendingPathComponent("reference.json")))
      let text = try String(contentsOf: dir.appendingPathComponent("data.csv"), encoding: .utf8)
      for line in text.split(separator: "\n").dropFirst() {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false)
        let x = cells[1...5].map { $0.isEmpty ? Double.nan : Double($0) ?? .nan }
        let yb = Double(cells[6]) ?? .nan, yr = Double(cells[7]) ?? .nan
        if cells[0] == "train" {
          trainX += x; trainBinary.append(yb); trainRegression.append(yr)
        } else {
          testX += x; testBinary.append(yb); testRegression.append(yr)
        }
      }
    }
  }

  // MARK: - Accuracy

  @Test func learnsANonlinearSignal() {
    let train = Self.nonlinear(rows: 20_000, seed: 1)
    let valid = Self.nonlinear(rows: 5_000, seed: 2)
    let test = Self.nonlinear(rows: 10_000, seed: 3)
    let model = GBT.fit(
      features: train.x, featureCount: 4, labels: train.y, options: .init(),
      validation: (valid.x, valid.y))
    let p = model.predict(features: test.x, featureCount: 4)
    let loss = Self.logLoss(test.y, p)
    let trueLoss = Self.logLoss(test.y, test.p)
    let mean = train.y.reduce(0, +) / Double(train.y.count)
    let constantLoss = Self.logLoss(test.y, Array(repeating: mean, count: test.y.count))
    // 20k rows recover most of the signal: within 3 % of the Bayes log loss.
    #expect(loss < trueLoss * 1.03, "log loss \(loss) vs true model \(trueLoss)")
    #expect(loss < constantLoss - 0.1, "log loss \(loss) vs constant \(constantLoss)")
    let auc = Self.auc(test.y, p), trueAUC = Self.auc(test.y, test.p)
    #expect(auc > trueAUC - 0.01 && auc > 0.8, "AUC \(auc) vs true model \(trueAUC)")
    #expect(model.treeCount > 50)
    // x3 is noise: it gains far less than any signal feature.
    #expect(model.featureGain[3] < 0.1 * model.featureGain[0...2].min()!)  // 4 features, slice non-empty
  }

  @Test func logisticAgreesWithLightGBM() throws {
    let data = try Fixture()
    var options = GBT.Options()
    options.maximumTrees = data.reference.logistic.rounds
    let model = GBT.fit(features: data.trainX, featureCount: 5, labels: data.trainBinary, options: options)
    #expect(model.treeCount == options.maximumTrees)
    let loss = Self.logLoss(data.testBinary, model.predict(features: data.testX, featureCount: 5))
    let reference = data.reference.logistic.lightgbm_test_log_loss
    // Tolerance 2 %, relative. Same data and settings, no randomness in
    // either learner, but they still differ in bin edges (LightGBM's own
    // greedy cuts), missing-value defaults and tie-breaking, which on 1000
    // held-out rows moved the log loss by +0.3 % when the fixture was made.
    // 2 % leaves room for such details and is still far inside the gaps a
    // real defect opens: the constant model is 44 % worse, the true model
    // 6.5 % better, so a wrong gain, leaf value or missing rule shows.
    print("GBDT logistic held-out log loss: Koi \(loss), LightGBM \(reference)")
    #expect(abs(loss - reference) / reference < 0.02, "Koi \(loss) vs LightGBM \(reference)")
  }

  @Test func absoluteErrorAgreesWithLightGBM() throws {
    let data = try Fixture()
    var options = GBT.Options(objective: .absoluteError)
    options.maximumTrees = data.reference.absolute_error.rounds
    let model = GBT.fit(features: data.trainX, featureCount: 5, labels: data.trainRegression, options: options)
    let mae = Self.meanAbsoluteError(data.testRegression, model.predict(features: data.testX, featureCount: 5))
    let reference = data.reference.absolute_error.lightgbm_test_mae
    // Tolerance 3 %, relative: the same reasons as the logistic comparison,
    // plus the Student-t(2) noise, which makes a 1000-row MAE noisier (it was
    // −0.8 % when the fixture was made). The constant model is 94 % worse and
    // the true median 8 % better, so a broken leaf renewal (e.g. Newton
    // steps instead of medians) shows.
    print("GBDT absolute-error held-out MAE: Koi \(mae), LightGBM \(reference)")
    #expect(abs(mae - reference) / reference < 0.03, "Koi \(mae) vs LightGBM \(reference)")
    #expect(mae < data.reference.absolute_error.constant_test_mae * 0.6)
  }

  @Test func absoluteErrorPredictsTheConditionalMedian() {
    // y = 20 + 8 sin(x0) + 4 |x1| + Cauchy noise (median 0, no mean).
    var rng = SeededGenerator(seed: 7)
    func sample(_ n: Int) -> (x: [Double], y: [Double], median: [Double]) {
      var x: [Double] = [], y: [Double] = [], m: [Double] = []
      for _ in 0..<n {
        let x0 = -3 + 6 * rng.uniform(), x1 = rng.normal()
        let median = 20 + 8 * Double.sin(x0) + 4 * abs(x1)
        let cauchy = Double.tan(Double.pi * (rng.uniform() - 0.5))
        x += [x0, x1]
        y.append(median + 2 * cauchy)
        m.append(median)
      }
      return (x, y, m)
    }
    let train = sample(20_000), valid = sample(5_000), test = sample(5_000)
    let model = GBT.fit(
      features: train.x, featureCount: 2, labels: train.y, options: .init(objective: .absoluteError),
      validation: (valid.x, valid.y))
    let f = model.predict(features: test.x, featureCount: 2)
    // Cauchy(0, 2) noise: mean |noise| is infinite, its median 2. The fit is
    // close to the conditional median, far closer than the noise scale.
    let medianError = Self.meanAbsoluteError(test.median, f)
    #expect(medianError < 0.6, "mean |prediction − true median| = \(medianError)")
    #expect(f.allSatisfy { $0.isFinite })
    let mae = Self.meanAbsoluteError(test.y, f), bayes = Self.meanAbsoluteError(test.y, test.median)
    #expect(mae < bayes * 1.03, "MAE \(mae) vs true median \(bayes)")
  }

  // MARK: - Missing values

  @Test func missingnessCarriesSignal() {
    // x0 is missing for half the rows; P(y = 1) is 0.8 when missing, 0.2
    // when present (whatever the value). x1 is noise.
    var rng = SeededGenerator(seed: 11)
    var x: [Double] = [], y: [Double] = []
    for _ in 0..<4_000 {
      let missing = rng.uniform() < 0.5
      x += [missing ? .nan : rng.normal(), rng.normal()]
      y.append(rng.uniform() < (missing ? 0.8 : 0.2) ? 1 : 0)
    }
    var options = GBT.Options()
    options.maximumTrees = 50
    let model = GBT.fit(features: x, featureCount: 2, labels: y, options: options)
    #expect(model.featureGain[0] > 10 * model.featureGain[1])
    let p = model.predict(features: [.nan, 0, 0.5, 0, -0.5, 0], featureCount: 2)
    #expect(p[0] > 0.7, "missing row: \(p[0])")
    #expect(p[1] < 0.3 && p[2] < 0.3, "present rows: \(p[1]), \(p[2])")
  }

  @Test func missingDirectionIsLearnedPerNode() {
    // Missing rows behave like large values: they must go right of x ≤ 0.
    var rng = SeededGenerator(seed: 12)
    var x: [Double] = [], y: [Double] = []
    for _ in 0..<3_000 {
      let v = rng.normal()
      let missing = v > 0 && rng.uniform() < 0.5
      x.append(missing ? .nan : v)
      y.append(rng.uniform() < (v > 0 ? 0.9 : 0.1) ? 1 : 0)
    }
    var options = GBT.Options()
    options.maximumTrees = 100
    let model = GBT.fit(features: x, featureCount: 1, labels: y, options: options)
    let p = model.predict(features: [.nan, 1, -1], featureCount: 1)
    #expect(p[0] > 0.8 && p[1] > 0.8 && p[2] < 0.2, "\(p)")
  }

  // MARK: - Determinism

  @Test func fitIsDeterministicForAnyThreadCount() {
    // Large enough for the parallel histogram and binning paths.
    var rng = SeededGenerator(seed: 21)
    let rows = 40_000, d = 8
    var x = [Double](repeating: 0, count: rows * d), y: [Double] = []
    for i in 0..<rows {
      for j in 0..<d { x[i * d + j] = rng.uniform() < 0.05 ? .nan : rng.normal() }
      let s = x[i * d] - x[i * d + 1] * x[i * d + 2] + Double.sin(3 * x[i * d + 3])
      y.append(rng.uniform() < GBT.sigmoid(s.isNaN ? 0 : s) ? 1 : 0)
    }
    var options = GBT.Options()
    options.maximumTrees = 20
    let one = GBT.fit(features: x, featureCount: d, labels: y, options: options, validation: nil, threads: 1)
    let many = GBT.fit(features: x, featureCount: d, labels: y, options: options, validation: nil, threads: 5)
    let again = GBT.fit(features: x, featureCount: d, labels: y, options: options)
    #expect(one == many)
    #expect(one == again)
    #expect(one.predict(features: x, featureCount: d) == many.predict(features: x, featureCount: d))
  }

  @Test(arguments: [GBT.Objective.logistic, .absoluteError])
  func compiledPredictionEqualsTheWalkBitForBit(objective: GBT.Objective) throws {
    // Rows include every threshold exactly, values between and beyond them,
    // ±infinity and missing values, in more than one block of rows.
    var rng = SeededGenerator(seed: 22)
    let rows = 5_000, d = 6
    var x = [Double](repeating: 0, count: rows * d), y: [Double] = []
    for i in 0..<rows {
      for j in 0..<d { x[i * d + j] = rng.uniform() < 0.1 ? .nan : (rng.normal() * 10).rounded() / 4 }
      let s = (x[i * d].isNaN ? 1 : x[i * d]) - (x[i * d + 1].isNaN ? 0 : x[i * d + 1] * x[i * d + 2].magnitude)
      y.append(objective == .logistic ? (rng.uniform() < GBT.sigmoid(s.isNaN ? 0 : s) ? 1 : 0) : s.isNaN ? 0 : s)
    }
    var options = GBT.Options(objective: objective)
    options.maximumTrees = 40
    options.minimumLeafCount = 5
    let model = GBT.fit(features: x, featureCount: d, labels: y, options: options)
    #expect(model.treeCount > 10)
    let compiled = try #require(CompiledTrees(model))
    var probe = x
    for (n, f) in model.nodeFeature.enumerated() where f >= 0 {
      var row = [Double](repeating: 0.5, count: d)
      row[Int(f)] = model.nodeThreshold[n]
      probe += row
      row[Int(f)] = model.nodeThreshold[n].nextUp
      probe += row
    }
    for special in [Double.infinity, -.infinity, .greatestFiniteMagnitude, .nan] {
      probe += [Double](repeating: special, count: d)
    }
    let walked = model.predictByWalking(features: probe)
    let fast = compiled.predict(features: probe)
    #expect(walked.count == fast.count)
    #expect(zip(walked, fast).allSatisfy { $0.bitPattern == $1.bitPattern })
    #expect(model.predict(features: probe, featureCount: d).elementsEqual(walked) { $0.bitPattern == $1.bitPattern })
  }

  // MARK: - Early stopping

  @Test func earlyStoppingKeepsTheBestRound() {
    // Weak signal, few rows: the validation loss turns up after a few trees.
    var rng = SeededGenerator(seed: 31)
    func sample(_ n: Int) -> (x: [Double], y: [Double]) {
      var x: [Double] = [], y: [Double] = []
      for _ in 0..<n {
        let v = (0..<5).map { _ in rng.normal() }
        x += v
        y.append(rng.uniform() < GBT.sigmoid(0.3 * v[0]) ? 1 : 0)
      }
      return (x, y)
    }
    let train = sample(600), valid = sample(600)
    var options = GBT.Options()
    options.minimumLeafCount = 10
    options.learningRate = 0.3
    options.earlyStoppingRounds = 10
    let model = GBT.fit(
      features: train.x, featureCount: 5, labels: train.y, options: options, validation: (valid.x, valid.y))
    #expect(model.treeCount < 50, "kept \(model.treeCount) trees")
    let loss = Self.logLoss(valid.y, model.predict(features: valid.x, featureCount: 5))
    let reported = model.validationLoss ?? .nan
    #expect(abs(reported - loss) < 1e-9, "reported \(reported) vs \(loss)")

    options.earlyStoppingRounds = 0
    let full = GBT.fit(
      features: train.x, featureCount: 5, labels: train.y, options: options, validation: (valid.x, valid.y))
    #expect(full.treeCount > model.treeCount)
    #expect((full.validationLoss ?? 0) > (model.validationLoss ?? 1))
  }

  // MARK: - Edge cases

  @Test(arguments: [0.0, 1.0])
  func allLabelsEqual(label: Double) {
    let x = (0..<300).map { Double($0 % 17) }
    let model = GBT.fit(
      features: x, featureCount: 1, labels: Array(repeating: label, count: 300), options: .init())
    let p = model.predict(features: [0, 5, .nan, .infinity], featureCount: 1)
    #expect(model.treeCount == 0)
    #expect(p.allSatisfy { abs($0 - label) < 1e-12 })
    let median = GBT.fit(
      features: x, featureCount: 1, labels: Array(repeating: 42, count: 300),
      options: .init(objective: .absoluteError))
    #expect(median.predict(features: [3], featureCount: 1) == [42])
  }

  @Test func oneRowAndNoRows() {
    let one = GBT.fit(features: [1, 2], featureCount: 2, labels: [1], options: .init())
    let p = one.predict(features: [1, 2, .nan, 7], featureCount: 2)
    #expect(p.count == 2 && p.allSatisfy { $0.isFinite && $0 > 0.99 })
    let none = GBT.fit(features: [], featureCount: 3, labels: [], options: .init(objective: .absoluteError))
    #expect(none.predict(features: [1, 2, 3], featureCount: 3) == [0])
    let noFeatures = GBT.fit(features: [], featureCount: 0, labels: [0, 1, 1, 1], options: .init())
    #expect(noFeatures.treeCount == 0)
    #expect(abs(GBT.sigmoid(noFeatures.initialScore) - 0.75) < 1e-12)
  }

  @Test func unusableFeaturesGiveAConstant() {
    // A constant feature and an all-missing feature: nothing can be split.
    var rng = SeededGenerator(seed: 41)
    let rows = 1_000
    var x: [Double] = [], y: [Double] = []
    for _ in 0..<rows {
      x += [3.5, .nan]
      y.append(rng.uniform() < 0.3 ? 1 : 0)
    }
    let model = GBT.fit(features: x, featureCount: 2, labels: y, options: .init())
    #expect(model.treeCount == 0)
    #expect(model.featureGain == [0, 0])
    let p = model.predict(features: [3.5, .nan, -1, 2, .nan, .nan], featureCount: 2)
    let mean = y.reduce(0, +) / Double(rows)
    #expect(p.allSatisfy { abs($0 - mean) < 1e-12 })

    // A constant feature next to a useful one is never split on.
    var x2: [Double] = []
    for i in 0..<rows { x2 += [3.5, Double(i % 10)] }
    let y2 = (0..<rows).map { Double($0 % 10 < 5 ? 0 : 1) }
    let model2 = GBT.fit(features: x2, featureCount: 2, labels: y2, options: .init())
    #expect(model2.featureGain[0] == 0 && model2.featureGain[1] > 0)
    #expect(!model2.nodeFeature.contains(0))
  }

  @Test func binningUsesOneBinPerDistinctValueOrQuantiles() {
    #expect(GradientBoostedTreesBinning.cutPoints(sortedValues: [1, 1, 2, 3, 3], maximumBins: 64) == [1.5, 2.5])
    #expect(GradientBoostedTreesBinning.cutPoints(sortedValues: [5, 5, 5], maximumBins: 64) == [])
    // 1000 distinct values into 4 bins: equal-frequency cuts.
    let cuts = GradientBoostedTreesBinning.cutPoints(sortedValues: (0..<1000).map(Double.init), maximumBins: 4)
    #expect(cuts == [249.5, 499.5, 749.5])
    // A heavy value gets a bin of its own.
    let heavy = GradientBoostedTreesBinning.cutPoints(
      sortedValues: (0..<100).map(Double.init) + Array(repeating: 100, count: 800) + (101..<201).map(Double.init),
      maximumBins: 8)
    #expect(heavy.contains(99.5) && heavy.contains(100.5))
    #expect(GradientBoostedTreesBinning.bin(of: .nan, edges: cuts) == 0)
    #expect(GradientBoostedTreesBinning.bin(of: 249.5, edges: cuts) == 1)
    #expect(GradientBoostedTreesBinning.bin(of: 250, edges: cuts) == 2)
    #expect(GradientBoostedTreesBinning.bin(of: .infinity, edges: cuts) == 4)
  }

  /// The binning before the radix sort: each column sorted by `sorted()`,
  /// each row binned by binary search, split when two rows' bins differ.
  static func comparisonSortBinning(_ x: [Double], featureCount d: Int, rows: Int, maximumBins: Int) -> (
    edges: [[Double]], bins: [UInt8], splittable: [Bool]
  ) {
    var edges: [[Double]] = [], bins = [UInt8](repeating: 0, count: rows * d), splittable: [Bool] = []
    for j in 0..<d {
      let column = (0..<rows).map { x[$0 * d + j] }.filter { !$0.isNaN }.map(GradientBoostedTreesBinning.clamped)
      let cuts = GradientBoostedTreesBinning.cutPoints(sortedValues: column.sorted(), maximumBins: maximumBins)
      edges.append(cuts)
      for i in 0..<rows { bins[j * rows + i] = GradientBoostedTreesBinning.bin(of: x[i * d + j], edges: cuts) }
      splittable.append(Set(bins[(j * rows)..<((j + 1) * rows)]).count > 1)
    }
    return (edges, bins, splittable)
  }

  @Test(arguments: [2, 8, 64, 255])
  func radixBinningEqualsTheComparisonSortBitForBit(maximumBins: Int) {
    // Columns of few and many distinct values, ties, both zeros next to
    // the smallest subnormals, infinities, missing values, a constant, an
    // all-missing column, a constant with missing values.
    var rng = SeededGenerator(seed: 24)
    let rows = 3_000, d = 9
    let special: [Double] = [
      0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .infinity, -.infinity, .greatestFiniteMagnitude,
    ]
    var x = [Double](repeating: 0, count: rows * d)
    for i in 0..<rows {
      x[i * d] = rng.normal()
      x[i * d + 1] = (rng.normal() * 3).rounded()
      x[i * d + 2] = rng.uniform() < 0.3 ? special[Int(rng.uniform() * Double(special.count))] : rng.normal() * 1e-300
      x[i * d + 3] = rng.uniform() < 0.2 ? .nan : (rng.uniform() * 500).rounded()
      x[i * d + 4] = 7
      x[i * d + 5] = .nan
      x[i * d + 6] = rng.uniform() < 0.5 ? .nan : 7
      x[i * d + 7] = rng.uniform() < 0.5 ? -0.0 : 0
      x[i * d + 8] = rng.uniform() < 0.01 ? 1 : -0.0
    }
    for threads in [1, 3] {
      let fast = GradientBoostedTreesBinning(
        features: x, featureCount: d, rows: rows, maximumBins: maximumBins, threads: threads)
      let reference = Self.comparisonSortBinning(x, featureCount: d, rows: rows, maximumBins: maximumBins)
      #expect(fast.edges.count == d)
      for j in 0..<d {
        #expect(fast.edges[j].map(\.bitPattern) == reference.edges[j].map(\.bitPattern), "feature \(j)")
      }
      #expect(fast.bins == reference.bins)
      #expect(fast.splittable == reference.splittable)
      #expect(fast.splittable == [true, true, true, true, false, false, true, false, true])
    }
  }

  @Test func rowMajorBinsAreTheBinsOfEachValue() {
    let x: [Double] = [0, 1, .nan, 5, -.infinity, 2, 2.5, .infinity]
    let binning = GradientBoostedTreesBinning(features: x, featureCount: 2, rows: 4, maximumBins: 8, threads: 1)
    let probe: [Double] = [0.5, .nan, 2, 10, -1, 3]
    let bins = binning.rowMajorBins(of: probe, featureCount: 2)
    #expect(bins == probe.indices.map { GradientBoostedTreesBinning.bin(of: probe[$0], edges: binning.edges[$0 % 2]) })
    #expect(bins[1] == 0)
  }

  /// The held-out loss of `model`'s trees summed as `fit` sums them, by the
  /// walk on doubles that `fit` used before scoring binned rows.
  static func walkedHeldOutLoss(_ model: GBT, features x: [Double], labels y: [Double]) -> Double {
    let d = model.featureCount
    var sum = 0.0
    for i in y.indices {
      var f = model.initialScore
      for root in model.treeRoots {
        var node = Int(root)
        while model.nodeFeature[node] >= 0 {
          let v = x[i * d + Int(model.nodeFeature[node])]
          let left =
            v.isNaN ? model.nodeMissingLeft[node] : GradientBoostedTreesBinning.clamped(v) <= model.nodeThreshold[node]
          node = Int(left ? model.nodeLeft[node] : model.nodeRight[node])
        }
        f += model.nodeValue[node]
      }
      sum +=
        model.options.objective == .logistic
        ? y[i] * Self.softplus(-f) + (1 - y[i]) * Self.softplus(f) : abs(y[i] - f)
    }
    return sum / Double(y.count)
  }

  @Test(arguments: [GBT.Objective.logistic, .absoluteError])
  func binnedHeldOutScoringEqualsTheWalkOnDoubles(objective: GBT.Objective) {
    // Held-out values on and beside the training values, outside their
    // range, infinite and missing; every tree kept (no early stopping) so
    // the fit's last loss is that of the whole model.
    var rng = SeededGenerator(seed: 25)
    let rows = 6_000, held = 9_000, d = 5
    func sample(_ n: Int) -> (x: [Double], y: [Double]) {
      var x: [Double] = [], y: [Double] = []
      for _ in 0..<n {
        var row = (0..<d).map { _ in rng.uniform() < 0.1 ? Double.nan : (rng.normal() * 8).rounded() / 4 }
        if rng.uniform() < 0.05 { row[0] = [Double.infinity, -.infinity, 1e300, 0.125.nextUp][Int(rng.uniform() * 4)] }
        let s = (row[0].isNaN ? 0.5 : max(-3, min(3, row[0]))) - (row[1].isNaN ? 0 : row[1] * row[2].magnitude)
        x += row
        let t = s.isNaN ? 0 : s
        y.append(objective == .logistic ? (rng.uniform() < GBT.sigmoid(t) ? 1 : 0) : t + rng.normal())
      }
      return (x, y)
    }
    let train = sample(rows), validation = sample(held)
    var options = GBT.Options(objective: objective)
    options.maximumTrees = 30
    options.earlyStoppingRounds = 0
    options.minimumLeafCount = 10
    for threads in [1, 2] {
      let model = GBT.fit(
        features: train.x, featureCount: d, labels: train.y, options: options, validation: (validation.x, validation.y),
        threads: threads)
      #expect(model.treeCount == 30)
      let expected = Self.walkedHeldOutLoss(model, features: validation.x, labels: validation.y)
      #expect(model.validationLoss?.bitPattern == expected.bitPattern)
    }
  }

  /// softplus(z) = log(1 + e^z) without overflow: the log loss's two terms
  /// as `GBT.loss` computed them before it shared their common part.
  static func softplus(_ z: Double) -> Double {
    max(z, 0) + Double.log(onePlus: Double.exp(-abs(z)))
  }

  @Test func logLossTakesTheSharedTermOnceWithTheSameBits() {
    var rng = SeededGenerator(seed: 26)
    let scores = (0..<2_000).map { _ in rng.normal() * 20 } + [0, -0.0, 700, -700, 800, -800, 1e-300, -1e-300]
    for f in scores {
      for y in [0.0, 1.0, 0.25] {
        let bothCalls = y * Self.softplus(-f) + (1 - y) * Self.softplus(f)
        #expect(GBT.loss(.logistic, label: y, score: f).bitPattern == bothCalls.bitPattern)
      }
    }
  }

  // MARK: - Persistence

  @Test func codableRoundTripPredictsIdentically() throws {
    let train = Self.nonlinear(rows: 3_000, seed: 51)
    var options = GBT.Options()
    options.maximumTrees = 40
    var x = train.x
    for i in stride(from: 0, to: x.count, by: 7) { x[i] = .nan }
    let model = GBT.fit(features: x, featureCount: 4, labels: train.y, options: options)
    let encoder = JSONEncoder.koi
    encoder.outputFormatting = [.sortedKeys]
    let json = try encoder.encode(model)
    let decoded = try JSONDecoder.koi.decode(GBT.self, from: json)
    #expect(decoded == model)
    #expect(decoded.predict(features: x, featureCount: 4) == model.predict(features: x, featureCount: 4))
    let text = String(decoding: json, as: UTF8.self)
    #expect(text.contains("\"node_threshold\"") && text.contains("\"maximum_leaves\""))
  }

  /// model.json's trees, written directly (`compactText()`), are the text
  /// `JSONEncoder.koiCompact` writes: a log-loss model with a held-out
  /// loss, with missing values and an exponent-form learning rate, an
  /// absolute-error model without a held-out loss, and a single leaf.
  @Test func theTreesTextIsTheEncodersText() throws {
    let train = Self.nonlinear(rows: 3_000, seed: 52)
    let valid = Self.nonlinear(rows: 1_000, seed: 53)
    var x = train.x
    for i in stride(from: 0, to: x.count, by: 11) { x[i] = .nan }
    var logistic = GBT.Options()
    logistic.maximumTrees = 30
    logistic.learningRate = 2.5e-5
    var absolute = GBT.Options(objective: .absoluteError)
    absolute.maximumTrees = 20
    absolute.minimumLeafHessian = 0.5
    let models = [
      GBT.fit(features: x, featureCount: 4, labels: train.y, options: logistic, validation: (valid.x, valid.y)),
      GBT.fit(features: train.x, featureCount: 4, labels: train.p.map { $0 * 1e7 - 3 }, options: absolute),
      GBT.fit(features: [1, 2, 3], featureCount: 1, labels: [1, 1, 1], options: logistic),
    ]
    #expect(models[0].validationLoss != nil && models[1].validationLoss == nil)
    for m in models {
      let text = try m.compactText()
      #expect(text == (try m.encodedCompactText()))
      #expect(try JSONDecoder.koi.decode(GBT.self, from: Data(text.utf8)) == m)
    }
    // A value the encoder refuses fails as it does.
    let m = models[0]
    let infinite = GBT(
      options: m.options, featureCount: m.featureCount, initialScore: m.initialScore, treeRoots: m.treeRoots,
      nodeFeature: m.nodeFeature, nodeThreshold: m.nodeThreshold, nodeMissingLeft: m.nodeMissingLeft,
      nodeLeft: m.nodeLeft, nodeRight: m.nodeRight, nodeValue: m.nodeValue.map { _ in .infinity },
      validationLoss: m.validationLoss, featureGain: m.featureGain)
    #expect(throws: EncodingError.self) { try infinite.compactText() }
  }

  // MARK: - Timing (off by default)

  /// `KOI_GBDT_TIMING=1 swift test -c release --filter GradientBoostedTreesTests/timing`
  @Test(.enabled(if: ProcessInfo.processInfo.environment["KOI_GBDT_TIMING"] != nil))
  func timing() {
    let rows = Int(ProcessInfo.processInfo.environment["KOI_GBDT_ROWS"] ?? "") ?? 1_000_000
    let d = 20
    var rng = SeededGenerator(seed: 61)
    var x = [Double](repeating: 0, count: rows * d), y = [Double](repeating: 0, count: rows)
    for i in 0..<rows {
      for j in 0..<d { x[i * d + j] = rng.normal() }
      let s = Double.sin(2 * x[i * d]) + x[i * d + 1] * x[i * d + 2] + 0.5 * x[i * d + 3] * x[i * d + 3] - 0.5
      y[i] = rng.uniform() < GBT.sigmoid(s) ? 1 : 0
    }
    var options = GBT.Options()
    options.earlyStoppingRounds = 0
    let clock = ContinuousClock()
    /// Processor time of this process (all threads), in seconds: on a
    /// shared machine it says what the wall clock would be when idle.
    func processorSeconds() -> Double {
      var usage = rusage()
      #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
      #else
        getrusage(RUSAGE_SELF, &usage)
      #endif
      return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
    var model: GBT?
    var cpu = processorSeconds()
    let elapsed = clock.measure {
      model = GBT.fit(features: x, featureCount: d, labels: y, options: options)
    }
    print(
      "GBDT timing: \(rows) rows × \(d) features × \(model?.treeCount ?? 0) trees: \(elapsed), processor \(processorSeconds() - cpu) s"
    )
    let yAbs = (0..<rows).map { x[$0 * d] * 3 + x[$0 * d + 1] * x[$0 * d + 1] + 2 * rng.normal() }
    var absoluteOptions = options
    absoluteOptions.objective = .absoluteError
    cpu = processorSeconds()
    let elapsedAbs = clock.measure {
      model = GBT.fit(features: x, featureCount: d, labels: yAbs, options: absoluteOptions)
    }
    print(
      "GBDT timing (absolute error): \(model?.treeCount ?? 0) trees: \(elapsedAbs), processor \(processorSeconds() - cpu) s"
    )
  }
}
