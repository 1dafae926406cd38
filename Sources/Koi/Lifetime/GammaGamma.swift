import RealModule

/// Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo
/// & Jiang 1999; Fader & Hardie 2013 note).
///
/// Each repeat transaction's value is Gamma(p, ν); ν ~ Gamma(q, γ) across
/// customers. For a customer with x repeat transactions of average m̄:
///
/// ```
/// ℓ = log Γ(px+q) − log Γ(px) − log Γ(q) + q log γ
///   + (px−1) log m̄ + px log x − (px+q) log(γ + x m̄)
/// E[spend | x, m̄] = p (γ + x m̄) / (px + q − 1)          (needs px + q > 1)
/// E[spend] (population, x = 0) = p γ / (q − 1)            (needs q > 1)
/// ```
/// γ is in currency units; p and q are unit-free. Only customers with x > 0
/// and m̄ > 0 enter the fit.
public struct GammaGammaParameters: Sendable, Codable, Equatable {
  public var p: Double
  public var q: Double
  public var gamma: Double
  public init(p: Double, q: Double, gamma: Double) { self.p = p; self.q = q; self.gamma = gamma }
}

public struct GammaGammaFit: Sendable, Codable, Equatable {
  public var parameters: GammaGammaParameters
  var standardErrors: GammaGammaParameters?
  public var logLikelihood: Double
  /// Customers with x > 0 and m̄ > 0 used in the fit.
  var customersUsed: Int
  /// Population mean spend per transaction p γ / (q − 1); nil when q ≤ 1
  /// (infinite mean).
  var populationMeanSpend: Double?
  /// Pearson correlation of x and m̄ among the fitted customers; the model
  /// assumes spend is independent of frequency, so a large |ρ| (> 0.3) is
  /// worth a look.
  var frequencySpendCorrelation: Double?
  public var diagnostics: FitDiagnostics
}

enum GammaGamma {
  /// Mean log-likelihood with its analytic gradient and Hessian in
  /// (log p, log q, log γ). Per customer, with G = log(γ + x m̄):
  ///
  /// ```
  /// ∂ℓ/∂p = x [ψ(px+q) − ψ(px) + log m̄ + log x − G]
  /// ∂ℓ/∂q = ψ(px+q) − ψ(q) + log γ − G
  /// ∂ℓ/∂γ = q/γ − (px+q)/(γ + x m̄)
  /// ∂²ℓ/∂p² = x² [ψ₁(px+q) − ψ₁(px)]    ∂²ℓ/∂p∂q = x ψ₁(px+q)    ∂²ℓ/∂p∂γ = −x/(γ + x m̄)
  /// ∂²ℓ/∂q² = ψ₁(px+q) − ψ₁(q)          ∂²ℓ/∂q∂γ = 1/γ − 1/(γ + x m̄)
  /// ∂²ℓ/∂γ² = −q/γ² + (px+q)/(γ + x m̄)²
  /// ```
  /// Customers are sorted by x, so per customer only G and 1/(γ + x m̄) are
  /// computed; their sums over a run of equal x are combined with the
  /// x-dependent factors when x changes. log m̄ is precomputed by the caller.
  static func meanLogLikelihood(_ theta: [Double], x: [Double], m: [Double], logm: [Double]) -> Evaluation? {
    guard theta.allSatisfy({ $0.isFinite && abs($0) < 30 }) else { return nil }
    let p = Double.exp(theta[0]), q = Double.exp(theta[1]), g = Double.exp(theta[2])
    let lgQ = LifetimeMath.logGamma(q), psiQ = LifetimeMath.digamma(q), triQ = LifetimeMath.trigamma(q)
    let logG = Double.log(g)
    let slot = { (i: Int, j: Int) in hessianSlot(i, j, of: 3) }
    let sums = LifetimeMath.chunkedSum(count: x.count, width: 10) { range, acc in
      guard !range.isEmpty else { return }
      var xi = x[range.lowerBound]
      var n = 0.0, sLogM = 0.0, sG = 0.0, sInv = 0.0, sInv2 = 0.0
      func flush() {
        guard n > 0 else { return }
        let px = p * xi, logX = Double.log(xi)
        let psiPXQ = LifetimeMath.digamma(px + q), psiPX = LifetimeMath.digamma(px)
        let triPXQ = LifetimeMath.trigamma(px + q)
        acc[0] +=
          n * (LifetimeMath.logGamma(px + q) - LifetimeMath.logGamma(px) - lgQ + q * logG + px * logX)
          + (px - 1) * sLogM - (px + q) * sG
        acc[1] += xi * (n * (psiPXQ - psiPX + logX) + sLogM - sG)
        acc[2] += n * (psiPXQ - psiQ + logG) - sG
        acc[3] += n * q / g - (px + q) * sInv
        acc[slot(0, 0)] += n * xi * xi * (triPXQ - LifetimeMath.trigamma(px))
        acc[slot(0, 1)] += n * xi * triPXQ
        acc[slot(0, 2)] += -xi * sInv
        acc[slot(1, 1)] += n * (triPXQ - triQ)
        acc[slot(1, 2)] += n / g - sInv
        acc[slot(2, 2)] += -n * q / (g * g) + (px + q) * sInv2
        (n, sLogM, sG, sInv, sInv2) = (0, 0, 0, 0, 0)
      }
      for i in range {
        if x[i] != xi {
          flush()
          xi = x[i]
        }
        let spend = g + xi * m[i]
        let inverse = 1 / spend
        n += 1
        sLogM += logm[i]
        sG += Double.log(spend)
        sInv += inverse
        sInv2 += inverse * inverse
      }
      flush()
    }
    return Evaluation(sums: sums, parameters: [p, q, g], totalWeight: Double(x.count))
  }

  /// Fits Gamma-Gamma on customers with x > 0 and m̄ > 0.
  ///
  /// - Complexity: O(repeat customers) per likelihood evaluation.
  public static func fit(_ summary: LifetimeSummary, maximumIterations: Int = 200) -> GammaGammaFit {
    // Customers in the fit, ordered by (x, index): a stable counting sort
    // when x is in a sane range, a comparison sort otherwise.
    var used = (0..<summary.count).filter { i in
      let m = summary.monetaryValue[i]
      return summary.frequency[i] > 0 && m > 0 && m.isFinite
    }
    let maxX = Int(used.reduce(Int32(0)) { max($0, summary.frequency[$1]) })
    if maxX <= 1 << 20 {
      var start = [Int](repeating: 0, count: maxX + 2)
      for i in used { start[Int(summary.frequency[i]) + 1] += 1 }
      for v in 0...maxX { start[v + 1] += start[v] }
      var sorted = used
      for i in used {
        let v = Int(summary.frequency[i])
        sorted[start[v]] = i
        start[v] += 1
      }
      used = sorted
    } else {
      used.sort { (summary.frequency[$0], $0) < (summary.frequency[$1], $1) }
    }
    let xs = used.map { Double(summary.frequency[$0]) }
    let ms = used.map { summary.monetaryValue[$0] }
    let logms = ms.map { Double.log($0) }
    let fallback = GammaGammaParameters(p: 1, q: 1, gamma: 1)
    func failure(_ message: String, attempts: [String] = []) -> GammaGammaFit {
      GammaGammaFit(
        parameters: fallback, standardErrors: nil, logLikelihood: 0, customersUsed: xs.count,
        populationMeanSpend: nil, frequencySpendCorrelation: nil,
        diagnostics: FitDiagnostics(
          converged: false, iterations: 0, gradientMaxNorm: 0, attempts: attempts, message: message))
    }
    guard xs.count >= 2 else {
      return failure("Gamma-Gamma needs at least two repeat customers with positive spend; found \(xs.count)")
    }
    // Method-of-moments-ish start: p = 1, q = 2, γ = mean m̄.
    let meanM = ms.reduce(0, +) / Double(ms.count)
    let starts: [(String, [Double])] = [
      ("p=1, q=2, gamma=mean spend", [0, Double.log(2), Double.log(meanM)]),
      ("unit", [0, 0, 0]),
      ("p=5, q=5, gamma=4 mean spend", [Double.log(5), Double.log(5), Double.log(4 * meanM)]),
    ]
    var attempts = [String]()
    var best: NewtonMaximizer.Result?
    for (name, start) in starts {
      guard
        let r = NewtonMaximizer.maximize(
          start: start, maximumIterations: maximumIterations,
          objective: {
            meanLogLikelihood($0, x: xs, m: ms, logm: logms)
          })
      else {
        attempts.append("start \(name): likelihood not finite at start"); continue
      }
      attempts.append("start \(name): \(r.converged ? "converged" : "not converged") after \(r.iterations) iterations")
      if NewtonMaximizer.isBetter(r, than: best) { best = r }
      if r.converged { break }
    }
    guard let best else { return failure("Gamma-Gamma likelihood not finite at any start", attempts: attempts) }
    let n = Double(xs.count)
    let params = GammaGammaParameters(
      p: Double.exp(best.theta[0]), q: Double.exp(best.theta[1]), gamma: Double.exp(best.theta[2]))
    let se = NewtonMaximizer.naturalScaleStandardErrors(theta: best.theta, meanHessian: best.hessian, totalWeight: n)
    let mean: Double? = params.q > 1 ? params.p * params.gamma / (params.q - 1) : nil
    var message: String?
    if !best.converged {
      message = "Gamma-Gamma did not converge; parameters are the best point found"
    } else if mean == nil {
      message =
        "Gamma-Gamma q = \(params.q) ≤ 1: the spend distribution has no finite mean; expected spend is reported only where p·x + q > 1, and not for customers without repeats"
    }
    // Correlation of x and m̄.
    let mx = xs.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in 0..<xs.count {
      sxy += (xs[i] - mx) * (ms[i] - meanM); sxx += (xs[i] - mx) * (xs[i] - mx);
      syy += (ms[i] - meanM) * (ms[i] - meanM)
    }
    let rho = sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : nil
    return GammaGammaFit(
      parameters: params,
      standardErrors: se.map { GammaGammaParameters(p: $0[0], q: $0[1], gamma: $0[2]) },
      logLikelihood: best.value * n, customersUsed: xs.count, populationMeanSpend: mean,
      frequencySpendCorrelation: rho,
      diagnostics: FitDiagnostics(
        converged: best.converged, iterations: best.iterations,
        gradientMaxNorm: best.gradient.map(abs).max() ?? 0, attempts: attempts, message: message))
  }

  /// Conditional expected spend per transaction. Customers with x = 0 or
  /// m̄ ≤ 0 get the population mean p γ/(q − 1). nil when the required mean
  /// does not exist (q ≤ 1, or p x + q ≤ 1).
  public static func expectedSpend(_ g: GammaGammaParameters, x: Int32, monetaryValue m: Double) -> Double? {
    if x <= 0 || !(m > 0) || !m.isFinite {
      return g.q > 1 ? g.p * g.gamma / (g.q - 1) : nil
    }
    let xd = Double(x)
    let denominator = g.p * xd + g.q - 1
    guard denominator > 0 else { return nil }
    let v = g.p * (g.gamma + xd * m) / denominator
    return v.isFinite ? v : nil
  }
}
