import Foundation
import Testing

@testable import Koi

/// Checks the conditional formulas against simulation with the true
/// parameters: customers are simulated past T, and the mean of the formulas
/// given (x, t_x, T) must match the mean of what happened in (T, T+h].
/// The simulation here is written independently of `LifetimeSimulator`.
@Suite("Lifetime: conditional predictions match simulated holdouts")
struct LifetimeHoldoutTests {
  struct Outcome { var x = 0.0, tx = 0.0, t = 0.0, future = 0 }

  /// Purchases at Erlang(k, kλ) gaps (k = 1: Poisson); dropout w.p. p after
  /// each repeat purchase, and also at the first one when `dropAtZero`.
  static func simulate(
    k: Int, r: Double, alpha: Double, a: Double, b: Double, dropAtZero: Bool,
    n: Int, horizon: Double, seed: UInt64
  ) -> [Outcome] {
    var g = SeededGenerator(seed: seed)
    var out = [Outcome]()
    for _ in 0..<n {
      let t = 20 + 300 * g.uniform()
      let lambda = g.gamma(shape: r) / alpha
      let u = g.gamma(shape: a), v = g.gamma(shape: b)
      let p = u / (u + v)
      var o = Outcome(t: t)
      var now = 0.0
      var alive = !(dropAtZero && g.uniform() < p)
      while alive {
        var gap = 0.0
        for _ in 0..<k { gap += -Foundation.log(1 - g.uniform()) / (Double(k) * lambda) }
        now += gap
        if now > t + horizon { break }
        if now <= t { o.x += 1; o.tx = now } else { o.future += 1 }
        if g.uniform() < p { alive = false }
      }
      out.append(o)
    }
    return out
  }

  @Test("BG/NBD: expected purchases and P(no purchase)")
  func bgnbd() {
    let p = BGNBDParameters(r: 0.9, alpha: 40, a: 0.8, b: 3)
    let h = 90.0
    let sim = Self.simulate(
      k: 1, r: p.r, alpha: p.alpha, a: p.a, b: p.b, dropAtZero: false, n: 20_000, horizon: h, seed: 11)
    var predicted = 0.0, actual = 0.0, noneP = 0.0, noneA = 0.0
    for o in sim {
      predicted += BGNBD.expectedPurchases(p, x: o.x, tx: o.tx, t: o.t, horizon: h)
      noneP += BGNBD.probabilityNoPurchase(p, x: o.x, tx: o.tx, t: o.t, horizon: h)
      actual += Double(o.future)
      noneA += o.future == 0 ? 1 : 0
    }
    let n = Double(sim.count)
    #expect(abs(predicted - actual) / n < 0.03, "mean predicted \(predicted / n) vs actual \(actual / n)")
    #expect(abs(noneP - noneA) / n < 0.01, "P(none) \(noneP / n) vs \(noneA / n)")
  }

  @Test("MBG/CNBD-3: P(no purchase) and expected purchases")
  func regularTiming() {
    let p = RegularTimingParameters(k: 3, r: 3, alpha: 90, a: 0.8, b: 4)
    let h = 90.0
    let sim = Self.simulate(
      k: 3, r: p.r, alpha: p.alpha, a: p.a, b: p.b, dropAtZero: true, n: 20_000, horizon: h, seed: 12)
    var predicted = 0.0, actual = 0.0, noneP = 0.0, noneA = 0.0
    for o in sim {
      predicted += RegularTimingMBG.expectedPurchases(p, x: o.x, tx: o.tx, t: o.t, horizon: h)
      noneP += RegularTimingMBG.probabilityNoPurchase(p, x: o.x, tx: o.tx, t: o.t, horizon: h)
      actual += Double(o.future)
      noneA += o.future == 0 ? 1 : 0
    }
    let n = Double(sim.count)
    #expect(abs(noneP - noneA) / n < 0.01, "P(none) \(noneP / n) vs \(noneA / n)")
    #expect(abs(predicted - actual) / n < 0.03, "mean predicted \(predicted / n) vs actual \(actual / n)")
  }

  @Test("from a ledger of regular buyers the stage picks MBG/CNBD-k with k > 1")
  func regularLedger() throws {
    var g = SeededGenerator(seed: 99)
    var rows = [Ledger.Row]()
    let asOf: Int32 = 20_000
    for c in 0..<400 {
      let start = Int32(asOf - 700) + Int32(g.uniform() * 400)
      let meanGap = 20 + 40 * g.uniform()
      var day = Double(start)
      var n = 0
      while Int32(day) < asOf && n < 40 {
        rows.append(.init(customerID: "c\(c)", day: Int32(day), item: "visit", amount: 50 + 100 * g.uniform()))
        day += meanGap * (0.7 + 0.6 * g.uniform())  // regular: ±30 % around the customer's rhythm
        n += 1
        if c % 5 == 0 && n == 3 { break }  // some lapse
      }
    }
    let ledger = Ledger(rows: rows)
    let table = CustomerTable(ledger: ledger, asOfDay: asOf)
    let summary = LifetimeSummary(ledger: ledger, table: table)
    let model = LifetimeStage.fit(summary, options: LifetimeOptions(maximumErlangK: 4))
    #expect(model.chosen == .regularTiming)
    #expect((model.regularTiming?.parameters.k ?? 0) > 1)
    let cols = LifetimeStage.score(summary, model: model)
    #expect(cols.probabilityAlive.allSatisfy { $0 != nil && $0! >= 0 && $0! <= 1 })
    #expect(cols.clv.allSatisfy { $0 != nil && $0!.isFinite })
  }
}
