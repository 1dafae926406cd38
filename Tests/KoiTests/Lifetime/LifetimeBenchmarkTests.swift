import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Koi

/// Koi's side of benchmarks/lifetime (see its README). Runs only when
/// KOI_LIFETIME_BENCH_CSV is set; meant for `swift test -c release`.
@Suite("Lifetime: benchmark harness")
struct LifetimeBenchmarkTests {
  static let environment = ProcessInfo.processInfo.environment

  /// User + system CPU seconds of this process (all threads).
  static func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6
      + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
  }

  @Test("fit and score a summary CSV, print timings", .enabled(if: environment["KOI_LIFETIME_BENCH_CSV"] != nil))
  func benchmark() throws {
    let path = try #require(Self.environment["KOI_LIFETIME_BENCH_CSV"])
    if let n = Self.environment["KOI_LIFETIME_BENCH_SIMULATE"].flatMap({ Int($0) }) {
      var s = LifetimeSimulator.simulate(
        .bgnbd(BGNBDParameters(r: 0.8, alpha: 30, a: 0.9, b: 4)), spend: GammaGammaParameters(p: 6, q: 4, gamma: 60),
        count: n, ageRange: 30...730, seed: 42)
      s.recency = s.recency.map { $0.rounded(.up) }
      s.age = s.age.map { $0.rounded(.up) }
      var out = "customer_id,frequency,recency,T,monetary_value\n"
      out.reserveCapacity(n * 40)
      for i in 0..<n {
        out += "c\(i),\(s.frequency[i]),\(Int(s.recency[i])),\(Int(s.age[i])),\((s.monetaryValue[i] * 100).rounded() / 100)\n"
      }
      try out.write(toFile: path, atomically: true, encoding: .utf8)
    }
    let clock = ContinuousClock()
    let t0 = clock.now
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var x = [Int32](), tx = [Double](), t = [Double](), m = [Double]()
    for line in text.split(separator: "\n").dropFirst() {
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      x.append(Int32(f[1])!); tx.append(Double(f[2])!); t.append(Double(f[3])!); m.append(Double(f[4])!)
    }
    let summary = LifetimeSummary(frequency: x, recency: tx, age: t, monetaryValue: m)
    let t1 = clock.now
    let options = LifetimeOptions(horizonDays: 360, annualDiscountRate: 0.10, margin: 1)
    let c1 = Self.cpuSeconds()
    let model = LifetimeStage.fit(summary, options: options)
    let t2 = clock.now
    let c2 = Self.cpuSeconds()
    let cols = LifetimeStage.score(summary, model: model, options: options)
    let t3 = clock.now
    let c3 = Self.cpuSeconds()
    // Breakdown of the fit.
    let b0 = clock.now
    let rows = CompressedRecency(summary)
    let b1 = clock.now
    let bgFit = BGNBD.fit(rows)
    let b2 = clock.now
    let ggFit = GammaGamma.fit(summary)
    let b3 = clock.now
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
    func total(_ v: [Double?]) -> Double { v.reduce(0) { $0 + ($1 ?? 0) } }
    let bg = try #require(model.bgnbd).parameters
    let gg = try #require(model.gammaGamma).parameters
    print("""
      {"tool": "koi", "customers": \(summary.count), "unique_rows": \(model.uniqueRecencyRows),
       "bg_nbd": {"r": \(bg.r), "alpha": \(bg.alpha), "a": \(bg.a), "b": \(bg.b)},
       "gamma_gamma": {"p": \(gg.p), "q": \(gg.q), "v": \(gg.gamma)},
       "sums": {"p_alive": \(total(cols.probabilityAlive)), "expected_purchases": \(total(cols.expectedPurchases)),
                "expected_spend": \(total(cols.expectedSpend)), "clv": \(total(cols.clv))},
       "fit_breakdown": {"compress": \(seconds(b1 - b0)), "bg_nbd": \(seconds(b2 - b1)), "bg_nbd_iterations": \(bgFit.diagnostics.iterations), "gamma_gamma": \(seconds(b3 - b2)), "gamma_gamma_iterations": \(ggFit.diagnostics.iterations)},
       "seconds": {"read": \(seconds(t1 - t0)), "fit": \(seconds(t2 - t1)), "score": \(seconds(t3 - t2))},
       "cpu_seconds": {"fit": \(c2 - c1), "score": \(c3 - c2)}}
      """)
  }
}

extension LifetimeBenchmarkTests {
  /// Regular-timing cost at scale: KOI_LIFETIME_BENCH_REGULAR=N simulates N
  /// MBG/CNBD-3 customers (whole days) and times the full stage fit (K = 4).
  @Test("fit the stage with MBG/CNBD-k on a simulated summary", .enabled(if: environment["KOI_LIFETIME_BENCH_REGULAR"] != nil))
  func regularBenchmark() throws {
    let n = Int(Self.environment["KOI_LIFETIME_BENCH_REGULAR"] ?? "") ?? 1_000_000
    var s = LifetimeSimulator.simulate(
      .regularTiming(RegularTimingParameters(k: 3, r: 2, alpha: 60, a: 0.7, b: 5)),
      spend: GammaGammaParameters(p: 6, q: 4, gamma: 60), count: n, ageRange: 30...730, seed: 5)
    s.recency = s.recency.map { $0.rounded(.up) }
    s.age = s.age.map { $0.rounded(.up) }
    let clock = ContinuousClock()
    let t0 = clock.now
    let c0 = Self.cpuSeconds()
    let model = LifetimeStage.fit(s, options: LifetimeOptions(horizonDays: 360, maximumErlangK: 4))
    let t1 = clock.now
    let c1 = Self.cpuSeconds()
    let cols = LifetimeStage.score(s, model: model, options: LifetimeOptions(horizonDays: 360, maximumErlangK: 4))
    let t2 = clock.now
    let c2 = Self.cpuSeconds()
    let reg = try #require(model.regularTiming)
    print("""
      {"tool": "koi", "customers": \(n), "unique_rows": \(model.uniqueRecencyRows), "chosen": "\(model.chosen.rawValue)",
       "k": \(reg.parameters.k), "log_likelihood_by_k": \(reg.logLikelihoodByK.map { $0.map { String($0) } ?? "null" }),
       "clv_sum": \(cols.clv.reduce(0) { $0 + ($1 ?? 0) }), "attempts": \(reg.diagnostics.attempts), "bg_attempts": \(model.bgnbd?.diagnostics.attempts ?? []),
       "seconds": {"fit": \(t1 - t0), "score": \(t2 - t1)}, "cpu_seconds": {"fit": \(c1 - c0), "score": \(c2 - c1)}}
      """)
  }
}
