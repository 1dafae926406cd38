import Foundation
import Testing

@testable import Koi

/// The lifetime stage's fast paths against the computations they replaced
/// (or an independent one), bit for bit: results must not move.
@Suite("Lifetime: fast kernels equal the plain computations bit for bit")
struct LifetimeKernelTests {
  /// Customers with whole-day times, some with T = t_x (no time since the
  /// last purchase, so only the first stage of the current gap can be done).
  static func wholeDays(count: Int, seed: UInt64) -> LifetimeSummary {
    var s = LifetimeSimulator.simulate(
      .regularTiming(RegularTimingParameters(k: 3, r: 2, alpha: 60, a: 0.7, b: 5)), count: count,
      ageRange: 30...400, seed: seed)
    s.recency = s.recency.map { $0.rounded(.up) }
    s.age = s.age.map { $0.rounded(.up) }
    for i in stride(from: 0, to: count, by: 13) where s.frequency[i] > 0 { s.age[i] = s.recency[i] }
    return s
  }

  static func sameBits(_ a: Evaluation?, _ b: Evaluation?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return a.value.bitPattern == b.value.bitPattern && a.gradient.map(\.bitPattern) == b.gradient.map(\.bitPattern)
      && a.hessian.values.map(\.bitPattern) == b.hessian.values.map(\.bitPattern)
  }

  @Test("MBG/CNBD-k likelihood, gradient and Hessian equal the plain loop", arguments: [1, 2, 3, 5])
  func regularTimingLikelihood(k: Int) throws {
    // More rows than one chunk of the parallel sum; whole days and weeks.
    for rows in [CompressedRecency(Self.wholeDays(count: 30_000, seed: 5)), CompressedRecency(try CDNOWData.summary())]
    {
      for theta in [[0.7, 4.1, -0.4, 1.6], [-0.5, 2, 0.3, 0.2], [0, 0, 0, 0], [2.5, -3, 4, -2]] {
        let fast = RegularTimingMBG.meanLogLikelihood(theta, k: k, rows)
        #expect(fast != nil)
        #expect(Self.sameBits(fast, PlainLoops.plainLoopMeanLogLikelihood(theta, k: k, rows)), "k=\(k) θ=\(theta)")
      }
    }
  }

  @Test("MBG/CNBD-k posterior with per-x terms equals the per-row formulas", arguments: [1, 2, 3, 4])
  func regularTimingPosterior(k: Int) throws {
    let p = RegularTimingParameters(k: k, r: 1.6, alpha: 53, a: 2.1, b: 19)
    for rows in [CompressedRecency(Self.wholeDays(count: 20_000, seed: 7)), CompressedRecency(try CDNOWData.summary())]
    {
      var terms = RegularTimingMBG.ComponentTerms(p)
      let logTime = rows.times.map { Double.log(p.alpha / Double(k) + $0) }
      var scratch = [Double](repeating: 0, count: k + 1), weights = [Double](repeating: 0, count: k)
      var wrong = 0
      for i in 0..<rows.count {
        let (x, tx, t) = (rows.x[i], rows.tx[i], rows.t[i])
        let alive = terms.posterior(
          x: x, tx: tx, t: t, logAT: logTime[Int(rows.tIndex[i])], logATx: logTime[Int(rows.txIndex[i])],
          scratch: &scratch, weights: &weights)
        let plain = PlainLoops.posterior(p, x: x, tx: tx, t: t)
        if alive.bitPattern != plain.alive.bitPattern || weights.map(\.bitPattern) != plain.weights.map(\.bitPattern) {
          wrong += 1
        }
      }
      #expect(wrong == 0, "\(wrong) of \(rows.count) rows differ")
      #expect(
        RegularTimingMBG.probabilityAlive(p, x: 3, tx: 40, t: 90) == PlainLoops.posterior(p, x: 3, tx: 40, t: 90).alive)
    }
  }

  /// 200,000 customers (several chunks of every parallel pass and of the
  /// radix sort): whole days up to 3,000, repeats up to 40, every 997th
  /// customer invalid (t_x > T).
  static func manyCustomers(fractional: Bool) -> LifetimeSummary {
    var g = SeededGenerator(seed: 17, stream: fractional ? 1 : 0)
    let n = 200_000
    var x = [Int32](repeating: 0, count: n), tx = [Double](repeating: 0, count: n), t = tx
    for i in 0..<n {
      t[i] = 1 + Double(Int(g.uniform() * 3000))
      x[i] = Int32(g.uniform() * 40)
      tx[i] = x[i] == 0 ? 0 : max(1, (t[i] * g.uniform()).rounded(.down))
      if i % 997 == 0 { tx[i] = t[i] + 1 }
      if fractional { (tx[i], t[i]) = (tx[i] / 7, t[i] / 7) }
    }
    return LifetimeSummary(frequency: x, recency: tx, age: t)
  }

  @Test("grouping over many chunks: whole days and fractional times")
  func groupingManyChunks() {
    for fractional in [false, true] {
      let rows = LifetimeDerivativeTests.checkGrouping(Self.manyCustomers(fractional: fractional))
      #expect(rows.count > 100_000)
      #expect(rows.blockStart.count == 41)  // x = 0…39, plus the end
    }
  }

  @Test("the parallel radix sort gives the order of a stable sort", arguments: [0, 11, 33, 64])
  func radixSort(bits: Int) {
    let n = 300_000
    var g = SeededGenerator(seed: 3, stream: UInt64(bits))
    let mask = bits == 64 ? UInt64.max : (1 << UInt64(bits)) - 1
    // Every other key from 50 values, so ties test stability.
    var keys = (0..<n).map { i in (i.isMultiple(of: 2) ? g.next() : g.next() % 50) & mask }
    var values = (0..<Int32(n)).map { $0 }
    let expected = (0..<n).sorted { (keys[$0], $0) < (keys[$1], $1) }
    let expectedKeys = expected.map { keys[$0] }
    CompressedRecency.radixSort(&keys, carrying: &values, bits: bits)
    #expect(values.map(Int.init) == expected)
    #expect(keys == expectedKeys)
  }

  @Test("customer columns equal the per-customer loop: fitted, no spend model, infinite mean spend, no purchase model")
  func customerColumns() throws {
    var s = LifetimeSimulator.simulate(
      .regularTiming(RegularTimingParameters(k: 2, r: 2, alpha: 60, a: 0.7, b: 5)),
      spend: GammaGammaParameters(p: 6, q: 4, gamma: 60), count: 40_000, ageRange: 30...730, seed: 11)
    s.recency = s.recency.map { $0.rounded(.up) }
    s.age = s.age.map { $0.rounded(.up) }
    for i in stride(from: 0, to: s.count, by: 101) { s.recency[i] = s.age[i] + 1 }  // invalid: scored null
    for i in stride(from: 5, to: s.count, by: 89) { s.monetaryValue[i] = -3 }  // refunds: population mean
    let options = LifetimeOptions(horizonDays: 180, annualDiscountRate: 0.1, margin: 0.5, maximumErlangK: 3)
    let rows = CompressedRecency(s)
    let fitted = LifetimeStage.fit(s, rows: rows, options: options)
    var noSpend = fitted
    noSpend.gammaGamma = nil
    var infiniteMean = fitted
    infiniteMean.gammaGamma?.parameters.q = 0.8
    var noPurchases = fitted
    noPurchases.chosen = .none
    for model in [fitted, noSpend, infiniteMean, noPurchases] {
      let scores = RowScores(rows: rows, model: model, options: options, daysPerUnit: s.daysPerUnit)
      let fast = scores.columns(s, rows: rows, spend: model.gammaGamma, options: options)
      let plain = PlainLoops.customerColumns(s, rows: rows, scores: scores.values, model: model, options: options)
      for (f, p) in zip(fast.inJSONKeyOrder, plain.inJSONKeyOrder) {
        #expect(f.nanForMissing.map(\.bitPattern) == p.nanForMissing.map(\.bitPattern))
      }
      #expect(fast.clv.contains { $0 != nil } == (model.chosen != .none && model.gammaGamma != nil))
    }
  }
}

/// The computations the fast paths replaced, kept as the tests' reference.
enum PlainLoops {
  static func plainLoopMeanLogLikelihood(_ theta: [Double], k: Int, _ rows: CompressedRecency) -> Evaluation? {
    guard theta.allSatisfy({ $0.isFinite && abs($0) < 30 }) else { return nil }
    let r = Double.exp(theta[0]), alpha = Double.exp(theta[1]), a = Double.exp(theta[2]), b = Double.exp(theta[3])
    let al = alpha / Double(k)
    let psiR = LifetimeMath.digamma(r), psiB = LifetimeMath.digamma(b), psiAB = LifetimeMath.digamma(a + b)
    let triR = LifetimeMath.trigamma(r), triB = LifetimeMath.trigamma(b), triAB = LifetimeMath.trigamma(a + b)
    let logAl = Double.log(al)
    let lB = LifetimeMath.logBeta(a, b)
    let common = -LifetimeMath.logGamma(r) + r * logAl
    let kd = Double(k)
    let logFactorial = (0..<k).map { LifetimeMath.logGamma(Double($0) + 1) }
    let logTime = rows.times.map { Double.log(al + $0) }
    let inverseTime = rows.times.map { 1 / (al + $0) }
    let slot = { (i: Int, j: Int) in hessianSlot(i, j, of: 4) }
    let sums = LifetimeMath.chunkedSum(count: rows.count, width: 15) { range, acc in
      // Terms that depend on x alone, recomputed when x changes (rows are
      // sorted by x). Component c < k is Aᵢ (i = c), c = k is D.
      var cachedX = -1.0
      var base = [Double](repeating: 0, count: k + 1)  // C_c without the time terms
      var shape = [Double](repeating: 0, count: k + 1)  // sᵢ; s₀ for D
      var gr0 = [Double](repeating: 0, count: k + 1)  // ψ(s_c) − ψ(r) + log α'
      var hrr = [Double](repeating: 0, count: k + 1)  // ψ₁(s_c) − ψ₁(r)
      var comp = [Double](repeating: 0, count: k + 1)
      var gaA = 0.0, gbA = 0.0, gaD = 0.0, gbD = 0.0, hAB = 0.0, hbbA = 0.0, hbbD = 0.0
      for row in range {
        let x = rows.x[row], w = rows.weight[row]
        if x != cachedX {
          cachedX = x
          let aliveBeta = LifetimeMath.logBeta(a, b + x + 1) - lB
          for c in 0...k {
            let i = c < k ? c : 0
            let sc = r + kd * x + Double(i)
            shape[c] = sc
            base[c] =
              (c < k ? aliveBeta - logFactorial[i] : LifetimeMath.logBeta(a + 1, b + x) - lB)
              + LifetimeMath.logGamma(sc) + common
            gr0[c] = LifetimeMath.digamma(sc) - psiR + logAl
            hrr[c] = LifetimeMath.trigamma(sc) - triR
          }
          let psiABX1 = LifetimeMath.digamma(a + b + x + 1), triABX1 = LifetimeMath.trigamma(a + b + x + 1)
          gaA = psiAB - psiABX1
          gbA = LifetimeMath.digamma(b + x + 1) - psiB + psiAB - psiABX1
          gaD = 1 / a + gaA
          gbD = LifetimeMath.digamma(b + x) - psiB + psiAB - psiABX1
          hAB = triAB - triABX1
          hbbA = LifetimeMath.trigamma(b + x + 1) - triB + triAB - triABX1
          hbbD = LifetimeMath.trigamma(b + x) - triB + triAB - triABX1
        }
        let ti = Int(rows.tIndex[row]), di = Int(rows.txIndex[row])
        let logAT = logTime[ti], logATx = logTime[di]
        let gap = rows.t[row] - rows.tx[row]
        let logGap = k > 1 && gap > 0 ? Double.log(gap) : 0
        var top = -Double.infinity
        for c in 0...k {
          if c < k {
            comp[c] = c > 0 && gap <= 0 ? -.infinity : base[c] + Double(c) * logGap - shape[c] * logAT
          } else {
            comp[c] = base[c] - shape[c] * logATx
          }
          top = max(top, comp[c])
        }
        var total = 0.0
        for c in 0...k {
          comp[c] = Double.exp(comp[c] - top)
          total += comp[c]
        }
        let inverseTotal = 1 / total
        // Σ w_c ∇C_c and Σ w_c (∇²C_c + ∇C_c ∇C_cᵀ) over the (r, α') block,
        // plus the (r, α') × (a, b) cross sums split by alive/dropped.
        var gR = 0.0, gA = 0.0, mRR = 0.0, mRA = 0.0, mAA = 0.0
        var aliveR = 0.0, aliveA = 0.0, aliveWeight = 0.0
        for c in 0...k {
          let wc = comp[c] * inverseTotal
          if wc == 0 { continue }
          let (lt, it) = c < k ? (logAT, inverseTime[ti]) : (logATx, inverseTime[di])
          let dr = gr0[c] - lt
          let da = r / al - shape[c] * it
          gR += wc * dr
          gA += wc * da
          mRR += wc * (hrr[c] + dr * dr)
          mRA += wc * (1 / al - it + dr * da)
          mAA += wc * (-r / (al * al) + shape[c] * it * it + da * da)
          if c < k { aliveR += wc * dr; aliveA += wc * da; aliveWeight += wc }
        }
        let wd = comp[k] * inverseTotal
        let dropR = gR - aliveR, dropA = gA - aliveA
        let gAa = aliveWeight * gaA + wd * gaD
        let gBb = aliveWeight * gbA + wd * gbD
        let mRa = aliveR * gaA + dropR * gaD, mRb = aliveR * gbA + dropR * gbD
        let mAa = aliveA * gaA + dropA * gaD, mAb = aliveA * gbA + dropA * gbD
        let maa = aliveWeight * (hAB + gaA * gaA) + wd * (hAB - 1 / (a * a) + gaD * gaD)
        let mab = aliveWeight * (hAB + gaA * gbA) + wd * (hAB + gaD * gbD)
        let mbb = aliveWeight * (hbbA + gbA * gbA) + wd * (hbbD + gbD * gbD)
        acc[0] += w * (top + Double.log(total))
        acc[1] += w * gR
        acc[2] += w * gA
        acc[3] += w * gAa
        acc[4] += w * gBb
        acc[slot(0, 0)] += w * (mRR - gR * gR)
        acc[slot(0, 1)] += w * (mRA - gR * gA)
        acc[slot(0, 2)] += w * (mRa - gR * gAa)
        acc[slot(0, 3)] += w * (mRb - gR * gBb)
        acc[slot(1, 1)] += w * (mAA - gA * gA)
        acc[slot(1, 2)] += w * (mAa - gA * gAa)
        acc[slot(1, 3)] += w * (mAb - gA * gBb)
        acc[slot(2, 2)] += w * (maa - gAa * gAa)
        acc[slot(2, 3)] += w * (mab - gAa * gBb)
        acc[slot(3, 3)] += w * (mbb - gBb * gBb)
      }
    }
    return Evaluation(sums: sums, parameters: [r, al, a, b], totalWeight: rows.totalWeight)
  }

  /// `LifetimeStage.score`'s serial loop over customers, on the row scores.
  static func customerColumns(
    _ summary: LifetimeSummary, rows: CompressedRecency, scores: [Double], model: LifetimeModel,
    options: LifetimeOptions
  ) -> LifetimeColumns {
    let n = summary.count
    let gg = model.gammaGamma
    let spendUsable = gg.map { $0.diagnostics.converged } ?? false
    var columns = LifetimeColumns(
      probabilityAlive: OptionalDoubleColumn(repeating: nil, count: n),
      expectedPurchases: OptionalDoubleColumn(repeating: nil, count: n),
      probabilityNoPurchase: OptionalDoubleColumn(repeating: nil, count: n),
      expectedSpend: OptionalDoubleColumn(repeating: nil, count: n),
      clv: OptionalDoubleColumn(repeating: nil, count: n),
      horizonDays: options.horizonDays)
    func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
    for c in 0..<n {
      let row = Int(rows.rowOfCustomer[c])
      var spend: Double?
      if spendUsable, let gg {
        spend = GammaGamma.expectedSpend(
          gg.parameters, x: summary.frequency[c], monetaryValue: summary.monetaryValue[c])
      }
      columns.expectedSpend[c] = spend
      guard row >= 0 else { continue }
      columns.probabilityAlive[c] = finite(scores[4 * row])
      columns.expectedPurchases[c] = finite(scores[4 * row + 1])
      columns.probabilityNoPurchase[c] = finite(scores[4 * row + 2])
      if let spend, let disc = finite(scores[4 * row + 3]) {
        columns.clv[c] = finite(options.margin * spend * disc)
      }
    }
    return columns
  }

  /// `RegularTimingMBG.posterior` computing every component of a row from
  /// scratch.
  static func posterior(_ p: RegularTimingParameters, x: Double, tx: Double, t: Double) -> (
    alive: Double, weights: [Double]
  ) {
    let k = p.k
    var comp = [Double](repeating: 0, count: k + 1)
    var weights = [Double](repeating: 0, count: k)
    components(k: k, r: p.r, alphaStage: p.alpha / Double(k), a: p.a, b: p.b, x: x, tx: tx, t: t, into: &comp)
    var lseAlive = -Double.infinity
    for i in 0..<k { lseAlive = LifetimeMath.logAddExp(lseAlive, comp[i]) }
    let lse = LifetimeMath.logAddExp(lseAlive, comp[k])
    for i in 0..<k { weights[i] = Double.exp(comp[i] - lseAlive) }
    return (Double.exp(lseAlive - lse), weights)
  }

  /// Log-components (A₀…A_{k−1}, D) of one row; `alphaStage` is α'.
  static func components(
    k: Int, r: Double, alphaStage: Double, a: Double, b: Double, x: Double, tx: Double, t: Double,
    into out: inout [Double]
  ) {
    let lB = LifetimeMath.logBeta(a, b)
    let common = -LifetimeMath.logGamma(r) + r * Double.log(alphaStage)
    let aliveBeta = LifetimeMath.logBeta(a, b + x + 1) - lB
    let gap = t - tx
    let logAT = Double.log(alphaStage + t)
    for i in 0..<k {
      let s = r + Double(k) * x + Double(i)
      if i > 0 && gap <= 0 { out[i] = -.infinity; continue }
      out[i] =
        aliveBeta + LifetimeMath.logGamma(s) + common
        + (i > 0 ? Double(i) * Double.log(gap) - LifetimeMath.logGamma(Double(i) + 1) : 0) - s * logAT
    }
    let s0 = r + Double(k) * x
    out[k] =
      LifetimeMath.logBeta(a + 1, b + x) - lB + LifetimeMath.logGamma(s0) + common - s0 * Double.log(alphaStage + tx)
  }
}
