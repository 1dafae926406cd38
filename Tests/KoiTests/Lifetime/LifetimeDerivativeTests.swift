import Foundation
import Testing

@testable import Koi

/// The Newton fits use analytic Hessians and the scoring groups customers;
/// both are checked here against slower independent computations.
@Suite("Lifetime: analytic derivatives, grouping and grouped scoring")
struct LifetimeDerivativeTests {
  /// Gradient against central differences of the value, Hessian against
  /// central differences of the gradient, at `theta`.
  static func checkDerivatives(_ theta: [Double], _ objective: ([Double]) -> Evaluation?, _ label: String) throws {
    let e = try #require(objective(theta), "\(label): not finite at \(theta)")
    let n = theta.count
    let h = 1e-5
    let scale = e.hessian.values.map(abs).max() ?? 1
    for j in 0..<n {
      var plus = theta, minus = theta
      plus[j] += h
      minus[j] -= h
      let ep = try #require(objective(plus)), em = try #require(objective(minus))
      let dValue = (ep.value - em.value) / (2 * h)
      #expect(
        abs(dValue - e.gradient[j]) <= 1e-6 * max(1, abs(e.gradient[j])),
        "\(label): gradient \(j) \(e.gradient[j]) vs \(dValue)")
      for i in 0..<n {
        let dGradient = (ep.gradient[i] - em.gradient[i]) / (2 * h)
        #expect(
          abs(dGradient - e.hessian[i, j]) <= 1e-6 * max(1, scale),
          "\(label): H[\(i),\(j)] \(e.hessian[i, j]) vs \(dGradient)")
      }
    }
  }

  @Test("BG/NBD and Gamma-Gamma Hessians match differences of their gradients (CDNOW)")
  func bgnbdAndGammaGamma() throws {
    let summary = try CDNOWData.summary()
    let rows = CompressedRecency(summary)
    for theta in [[-1.4, 1.5, -0.2, 0.9], [0.3, -0.5, 1.2, -1.1], [0, 0, 0, 0]] {
      try Self.checkDerivatives(theta, { BGNBD.meanLogLikelihood($0, rows) }, "BG/NBD")
    }
    let used = (0..<summary.count).filter { summary.frequency[$0] > 0 && summary.monetaryValue[$0] > 0 }
      .sorted { summary.frequency[$0] < summary.frequency[$1] }
    let x = used.map { Double(summary.frequency[$0]) }, m = used.map { summary.monetaryValue[$0] }
    let logm = m.map { Foundation.log($0) }
    for theta in [[1.8, 1.3, 2.7], [0, 0.7, 1], [-1, 2, 4]] {
      try Self.checkDerivatives(theta, { GammaGamma.meanLogLikelihood($0, x: x, m: m, logm: logm) }, "Gamma-Gamma")
    }
  }

  @Test("MBG/CNBD-k Hessians match differences of their gradients", arguments: [1, 2, 3, 5])
  func regularTiming(k: Int) throws {
    var s = LifetimeSimulator.simulate(
      .regularTiming(RegularTimingParameters(k: 3, r: 2, alpha: 60, a: 0.7, b: 5)), count: 3000, ageRange: 30...400,
      seed: 3)
    s.recency = s.recency.map { $0.rounded(.up) }
    s.age = s.age.map { $0.rounded(.up) + 1 }
    let rows = CompressedRecency(s)
    for theta in [[0.7, 4.1, -0.4, 1.6], [-0.5, 2, 0.3, 0.2]] {
      try Self.checkDerivatives(theta, { RegularTimingMBG.meanLogLikelihood($0, k: k, rows) }, "MBG/CNBD-\(k)")
    }
  }

  /// Every customer's row holds its own (x, t_x, T); rows are distinct and
  /// sorted; weights count customers; x blocks and (x, T) pairs are right.
  /// Returns the rows for further checks.
  @discardableResult
  static func checkGrouping(_ s: LifetimeSummary) -> CompressedRecency {
    let rows = CompressedRecency(s)
    var wrong = [String]()
    var counted = [Double](repeating: 0, count: rows.count)
    for i in 0..<s.count {
      let row = Int(rows.rowOfCustomer[i])
      guard s.isValid(i) else {
        if row != -1 { wrong.append("invalid customer \(i) has row \(row)") }
        continue
      }
      if (rows.x[row], rows.tx[row], rows.t[row]) != (Double(s.frequency[i]), s.recency[i], s.age[i]) {
        wrong.append("customer \(i) in row \(row)")
      }
      counted[row] += 1
    }
    if counted != rows.weight { wrong.append("weights") }
    for j in 1..<max(1, rows.count)
    where !((rows.x[j - 1], rows.tx[j - 1], rows.t[j - 1]) < (rows.x[j], rows.tx[j], rows.t[j])) {
      wrong.append("rows \(j - 1), \(j) not strictly sorted")
    }
    for j in 0..<rows.count {
      if rows.times[Int(rows.txIndex[j])] != rows.tx[j] || rows.times[Int(rows.tIndex[j])] != rows.t[j] {
        wrong.append("time index of row \(j)")
      }
      let pair = Int(rows.pairRow[Int(rows.pairOfRow[j])])
      if rows.x[pair] != rows.x[j] || rows.t[pair] != rows.t[j] { wrong.append("pair of row \(j)") }
    }
    var blockOfRow = [Int](repeating: -1, count: rows.count)
    for b in 0..<(rows.blockStart.count - 1) {
      for j in rows.blockStart[b]..<rows.blockStart[b + 1] { blockOfRow[j] = b }
    }
    if blockOfRow.contains(-1) { wrong.append("rows outside every x block") }
    for j in 1..<max(1, rows.count) where (blockOfRow[j] == blockOfRow[j - 1]) != (rows.x[j] == rows.x[j - 1]) {
      wrong.append("x block boundary at row \(j)")
    }
    let distinctPairs = Set((0..<rows.count).map { "\(rows.x[$0])/\(rows.t[$0])" })
    if rows.pairCount != distinctPairs.count {
      wrong.append("\(rows.pairCount) pairs, \(distinctPairs.count) distinct")
    }
    #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    return rows
  }

  @Test("grouping into rows, x blocks and (x, T) pairs: whole days, fractional weeks, huge ranges")
  func grouping() throws {
    var s = LifetimeSimulator.simulate(
      .bgnbd(BGNBDParameters(r: 0.8, alpha: 30, a: 0.9, b: 4)), count: 5000,
      ageRange: 30...730, seed: 9)
    s.recency = s.recency.map { $0.rounded(.up) }
    s.age = s.age.map { $0.rounded(.up) }
    #expect(Self.checkGrouping(s).times.count == Int(s.age.max()!) + 1)  // whole days: the table is 0…max T
    Self.checkGrouping(try CDNOWData.summary())  // fractional weeks: table of distinct values
    // Whole days far beyond the customer count: table of distinct values.
    let sparse = Self.checkGrouping(
      LifetimeSummary(
        frequency: [2, 3, 3, 0, 3, -1], recency: [150_000, 20, 20, 0, 25, 0],
        age: [200_000, 40, 40, 7, 40, 9]))
    #expect(sparse.times == [0, 7, 20, 25, 40, 150_000, 200_000])
    // x near 2³¹ and 140,000 distinct times need more than 64 key bits: the comparison path.
    let n = 70_000
    var x = (0..<n).map { Int32($0 % 7) }
    x[n / 2] = 2_000_000_000
    let tx = (0..<n).map { x[$0] == 0 ? 0 : Double($0) + 0.5 }
    Self.checkGrouping(
      LifetimeSummary(frequency: x + x, recency: tx + tx, age: (0..<(2 * n)).map { Double($0 % n) + 1.25 }))
    Self.checkGrouping(LifetimeSummary(frequency: [], recency: [], age: []))
  }

  @Test("grouped scoring equals the per-customer MBG/CNBD-k formulas")
  func groupedScoring() throws {
    var s = LifetimeSimulator.simulate(
      .regularTiming(RegularTimingParameters(k: 3, r: 2, alpha: 60, a: 0.7, b: 5)),
      spend: GammaGammaParameters(p: 6, q: 4, gamma: 60), count: 4000, ageRange: 30...730, seed: 11)
    s.recency = s.recency.map { $0.rounded(.up) }
    s.age = s.age.map { $0.rounded(.up) }
    let options = LifetimeOptions(horizonDays: 180, annualDiscountRate: 0.1, margin: 0.5, maximumErlangK: 4)
    let (model, cols) = LifetimeStage.run(s, options: options)
    #expect(model.chosen == .regularTiming)
    let reg = try #require(model.regularTiming).parameters
    #expect(reg.k > 1)
    for i in stride(from: 0, to: s.count, by: 97) {
      let x = Double(s.frequency[i]), tx = s.recency[i], t = s.age[i]
      let e = RegularTimingMBG.expectedPurchases(reg, x: x, tx: tx, t: t, horizon: 180)
      let none = RegularTimingMBG.probabilityNoPurchase(reg, x: x, tx: tx, t: t, horizon: 180)
      let alive = RegularTimingMBG.probabilityAlive(reg, x: x, tx: tx, t: t)
      #expect(try #require(cols.expectedPurchases[i]).isApproximatelyEqual(to: e, relativeTolerance: 1e-10))
      #expect(try #require(cols.probabilityNoPurchase[i]).isApproximatelyEqual(to: none, relativeTolerance: 1e-10))
      #expect(try #require(cols.probabilityAlive[i]).isApproximatelyEqual(to: alive, relativeTolerance: 1e-12))
    }
    // run = fit then score.
    let separate = LifetimeStage.score(s, model: LifetimeStage.fit(s, options: options), options: options)
    #expect(separate.clv == cols.clv)
  }
}
