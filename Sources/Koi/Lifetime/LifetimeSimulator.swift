import RealModule

/// Seeded simulation of customers from known lifetime-model parameters, for
/// parameter-recovery tests and benchmarks. Deterministic in (seed, customer
/// index): customer i draws from `SeededGenerator(seed:stream: i)`.
public enum LifetimeSimulator {
  /// Purchase process of the simulated customers.
  public enum Process: Sendable {
    /// BG/NBD: Poisson purchases at rate λ ~ Gamma(r, α); dropout with
    /// probability p ~ Beta(a, b) after every repeat purchase.
    case bgnbd(BGNBDParameters)
    /// MBG/CNBD-k: Erlang(k, kλ) gaps, λ ~ Gamma(r, α); dropout with
    /// probability p ~ Beta(a, b) at the first purchase and after every repeat.
    case regularTiming(RegularTimingParameters)
  }

  /// Simulates `count` customers whose first purchase is at time 0 and whose
  /// age T is uniform on `ageRange` (summary units, `daysPerUnit` = 1).
  /// Spend per repeat transaction follows Gamma-Gamma with `spend` when given
  /// (Gamma(p, ν), ν ~ Gamma(q, γ)); otherwise monetary values are 0.
  ///
  /// - Complexity: O(count + purchases).
  public static func simulate(
    _ process: Process, spend: GammaGammaParameters? = nil, count: Int,
    ageRange: ClosedRange<Double>, seed: UInt64
  ) -> LifetimeSummary {
    var x = [Int32](repeating: 0, count: count)
    var tx = [Double](repeating: 0, count: count)
    var ages = [Double](repeating: 0, count: count)
    var money = [Double](repeating: 0, count: count)
    var logGaps = [Double](repeating: 0, count: count)
    for i in 0..<count {
      var g = SeededGenerator(seed: seed, stream: UInt64(i))
      let t = ageRange.lowerBound + (ageRange.upperBound - ageRange.lowerBound) * g.uniform()
      let (r, alpha, a, b, k, dropAtZero): (Double, Double, Double, Double, Int, Bool)
      switch process {
      case .bgnbd(let p): (r, alpha, a, b, k, dropAtZero) = (p.r, p.alpha, p.a, p.b, 1, false)
      case .regularTiming(let p): (r, alpha, a, b, k, dropAtZero) = (p.r, p.alpha, p.a, p.b, p.k, true)
      }
      let lambda = max(1e-300, g.gamma(shape: r) / alpha)
      let ga = g.gamma(shape: a), gb = g.gamma(shape: b)
      let p = ga / (ga + gb)
      var now = 0.0, last = 0.0
      var n: Int32 = 0
      var logSum = 0.0
      var alive = !(dropAtZero && g.uniform() < p)
      while alive {
        let gap = k == 1 ? -Double.log(1 - g.uniform()) / lambda : g.gamma(shape: Double(k)) / (Double(k) * lambda)
        if now + gap > t { break }
        now += gap
        logSum += Double.log(now - last)
        last = now
        n += 1
        if g.uniform() < p { alive = false }
      }
      x[i] = n; tx[i] = last; ages[i] = t; logGaps[i] = logSum
      if let spend, n > 0 {
        let nu = g.gamma(shape: spend.q) / spend.gamma
        var total = 0.0
        for _ in 0..<n { total += g.gamma(shape: spend.p) / nu }
        money[i] = total / Double(n)
      }
    }
    return LifetimeSummary(
      frequency: x, recency: tx, age: ages, monetaryValue: money, logIntervalSum: logGaps, daysPerUnit: 1)
  }
}
