import Foundation
import Testing

@testable import Koi

/// Parameter recovery on seeded simulations. Tolerance: every estimate within
/// 4 of its own standard errors of the truth (a 4σ band: a false failure has
/// probability ≈ 6e-5 per parameter), and within 35 % relative. The debug
/// test uses 6,000 customers to stay fast; set KOI_LIFETIME_RECOVERY_N (e.g.
/// 20000) for a bigger run.
@Suite("Lifetime: parameter recovery from simulated customers")
struct LifetimeRecoveryTests {
  static var n: Int { Int(ProcessInfo.processInfo.environment["KOI_LIFETIME_RECOVERY_N"] ?? "") ?? 6_000 }

  static func close(_ est: Double, _ se: Double, _ truth: Double) -> Bool {
    abs(est - truth) <= 4 * se && abs(est - truth) <= 0.35 * truth
  }

  @Test("BG/NBD recovers r, α, a, b; Gamma-Gamma recovers p, q, γ")
  func bgnbd() throws {
    let truth = BGNBDParameters(r: 0.8, alpha: 30, a: 0.9, b: 4)
    let spend = GammaGammaParameters(p: 6, q: 4, gamma: 60)
    // Ages in whole days, like a ledger: compresses to far fewer rows.
    var s = LifetimeSimulator.simulate(.bgnbd(truth), spend: spend, count: Self.n, ageRange: 30...730, seed: 42)
    s.recency = s.recency.map { $0.rounded(.up) }
    s.age = s.age.map { $0.rounded(.up) }
    let fit = BGNBD.fit(s)
    #expect(fit.diagnostics.converged)
    let se = try #require(fit.standardErrors)
    let p = fit.parameters
    #expect(Self.close(p.r, se.r, truth.r), "r \(p.r) ± \(se.r)")
    #expect(Self.close(p.alpha, se.alpha, truth.alpha), "α \(p.alpha) ± \(se.alpha)")
    #expect(Self.close(p.a, se.a, truth.a), "a \(p.a) ± \(se.a)")
    #expect(Self.close(p.b, se.b, truth.b), "b \(p.b) ± \(se.b)")
    let gg = GammaGamma.fit(s)
    let gse = try #require(gg.standardErrors)
    #expect(Self.close(gg.parameters.p, gse.p, spend.p), "p \(gg.parameters.p) ± \(gse.p)")
    #expect(Self.close(gg.parameters.q, gse.q, spend.q), "q \(gg.parameters.q) ± \(gse.q)")
    #expect(Self.close(gg.parameters.gamma, gse.gamma, spend.gamma), "γ \(gg.parameters.gamma) ± \(gse.gamma)")
  }

  @Test("MBG/CNBD-k recovers k = 3 and its parameters, and the stage prefers it over BG/NBD")
  func regularTiming() throws {
    let truth = RegularTimingParameters(k: 3, r: 2, alpha: 60, a: 0.7, b: 5)
    let s = LifetimeSimulator.simulate(.regularTiming(truth), count: Self.n, ageRange: 60...730, seed: 7)
    let model = LifetimeStage.fit(s, options: LifetimeOptions(maximumErlangK: 4))
    let reg = try #require(model.regularTiming)
    #expect(reg.diagnostics.converged)
    #expect(reg.parameters.k == 3)
    let se = try #require(reg.standardErrors)
    let p = reg.parameters
    #expect(Self.close(p.r, se.r, truth.r), "r \(p.r) ± \(se.r)")
    #expect(Self.close(p.alpha, se.alpha, truth.alpha), "α \(p.alpha) ± \(se.alpha)")
    #expect(Self.close(p.a, se.a, truth.a), "a \(p.a) ± \(se.a)")
    #expect(Self.close(p.b, se.b, truth.b), "b \(p.b) ± \(se.b)")
    #expect(model.chosen == .regularTiming)
    let aicBG = try #require(model.selection.bgnbdAIC), aicReg = try #require(model.selection.regularTimingAIC)
    #expect(aicReg < aicBG)
  }

  @Test("on Poisson-timing data the stage keeps BG/NBD or picks k = 1")
  func poissonDataKeepsK1() throws {
    let truth = BGNBDParameters(r: 0.8, alpha: 30, a: 0.9, b: 4)
    let s = LifetimeSimulator.simulate(.bgnbd(truth), count: 3_000, ageRange: 30...730, seed: 3)
    let model = LifetimeStage.fit(s, options: LifetimeOptions(maximumErlangK: 3))
    #expect(model.chosen == .bgnbd || model.regularTiming?.parameters.k == 1)
  }
}
