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
  public var standardErrors: GammaGammaParameters?
  public var logLikelihood: Double
  /// Customers with x > 0 and m̄ > 0 used in the fit.
  public var customersUsed: Int
  /// Population mean spend per transaction p γ / (q − 1); nil when q ≤ 1
  /// (infinite mean).
  public var populationMeanSpend: Double?
  /// Pearson correlation of x and m̄ among the fitted customers; the model
  /// assumes spend is independent of frequency, so a large |ρ| (> 0.3) is
  /// worth a look.
  public var frequencySpendCorrelation: Double?
  public var diagnostics: FitDiagnostics

  enum CodingKeys: String, CodingKey {
    case parameters
    case standardErrors = "standard_errors"
    case logLikelihood = "log_likelihood"
    case customersUsed = "customers_used"
    case populationMeanSpend = "population_mean_spend"
    case frequencySpendCorrelation = "frequency_spend_correlation"
    case diagnostics
  }
}

public enum GammaGamma {
  /// Mean log-likelihood and gradient w.r.t. (log p, log q, log γ):
  ///
  /// ```
  /// ∂ℓ/∂p = x [ψ(px+q) − ψ(px) + log m̄ + log x − log(γ + x m̄)]
  /// ∂ℓ/∂q = ψ(px+q) − ψ(q) + log γ − log(γ + x m̄)
  /// ∂ℓ/∂γ = q/γ − (px+q)/(γ + x m̄)
  /// ```
  static func meanLogLikelihood(_ theta: [Double], x: [Double], m: [Double], logm: [Double]) -> (value: Double, gradient: [Double])? {
    guard theta.allSatisfy({ $0.isFinite && abs($0) < 30 }) else { return nil }
    let p = Double.exp(theta[0]), q = Double.exp(theta[1]), g = Double.exp(theta[2])
    let lgQ = LifetimeMath.logGamma(q), psiQ = LifetimeMath.digamma(q), logG = Double.log(g)
    // Customers are sorted by x: Γ and ψ terms of p·x are computed once per
    // distinct x within a chunk; log m̄ is precomputed by the caller.
    let sums = LifetimeMath.chunkedSum(count: x.count, width: 4) { range, acc in
      var cachedX = -1.0
      var xPart = 0.0, psiPXQ = 0.0, psiPX = 0.0, logX = 0.0
      for i in range {
        let xi = x[i], mi = m[i], logM = logm[i]
        let px = p * xi
        if xi != cachedX {
          cachedX = xi
          logX = Double.log(xi)
          xPart = LifetimeMath.logGamma(px + q) - LifetimeMath.logGamma(px) - lgQ + q * logG + px * logX
          psiPXQ = LifetimeMath.digamma(px + q)
          psiPX = LifetimeMath.digamma(px)
        }
        let logGXM = Double.log(g + xi * mi)
        acc[0] += xPart + (px - 1) * logM - (px + q) * logGXM
        acc[1] += xi * (psiPXQ - psiPX + logM + logX - logGXM)
        acc[2] += psiPXQ - psiQ + logG - logGXM
        acc[3] += q / g - (px + q) / (g + xi * mi)
      }
    }
    let (v, gp, gq, gg) = (sums[0], sums[1], sums[2], sums[3])
    let n = Double(x.count)
    let grad = [p * gp / n, q * gq / n, g * gg / n]
    guard v.isFinite, grad.allSatisfy({ $0.isFinite }) else { return nil }
    return (v / n, grad)
  }

  /// Fits Gamma-Gamma on customers with x > 0 and m̄ > 0.
  ///
  /// - Complexity: O(repeat customers) per likelihood evaluation.
  public static func fit(_ summary: LifetimeSummary, maximumIterations: Int = 200) -> GammaGammaFit {
    var used = (0..<summary.count).filter { i in
      let m = summary.monetaryValue[i]
      return summary.frequency[i] > 0 && m > 0 && m.isFinite
    }
    used.sort { (summary.frequency[$0], $0) < (summary.frequency[$1], $1) }
    let xs = used.map { Double(summary.frequency[$0]) }
    let ms = used.map { summary.monetaryValue[$0] }
    let logms = ms.map { Double.log($0) }
    let fallback = GammaGammaParameters(p: 1, q: 1, gamma: 1)
    func failure(_ message: String, attempts: [String] = []) -> GammaGammaFit {
      GammaGammaFit(parameters: fallback, standardErrors: nil, logLikelihood: 0, customersUsed: xs.count,
                    populationMeanSpend: nil, frequencySpendCorrelation: nil,
                    diagnostics: FitDiagnostics(converged: false, iterations: 0, gradientMaxNorm: 0, attempts: attempts, message: message))
    }
    guard xs.count >= 2 else { return failure("Gamma-Gamma needs at least two repeat customers with positive spend; found \(xs.count)") }
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
      guard let r = NewtonMaximizer.maximize(start: start, maximumIterations: maximumIterations, objective: {
        meanLogLikelihood($0, x: xs, m: ms, logm: logms)
      }) else {
        attempts.append("start \(name): likelihood not finite at start"); continue
      }
      attempts.append("start \(name): \(r.converged ? "converged" : "not converged") after \(r.iterations) iterations")
      if NewtonMaximizer.isBetter(r, than: best) { best = r }
      if r.converged { break }
    }
    guard let best else { return failure("Gamma-Gamma likelihood not finite at any start", attempts: attempts) }
    let n = Double(xs.count)
    let params = GammaGammaParameters(p: Double.exp(best.theta[0]), q: Double.exp(best.theta[1]), gamma: Double.exp(best.theta[2]))
    let se = NewtonMaximizer.naturalScaleStandardErrors(theta: best.theta, meanHessian: best.hessian, totalWeight: n)
    let mean: Double? = params.q > 1 ? params.p * params.gamma / (params.q - 1) : nil
    var message: String?
    if !best.converged {
      message = "Gamma-Gamma did not converge; parameters are the best point found"
    } else if mean == nil {
      message = "Gamma-Gamma q = \(params.q) ≤ 1: the spend distribution has no finite mean; expected spend is reported only where p·x + q > 1, and not for customers without repeats"
    }
    // Correlation of x and m̄.
    let mx = xs.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in 0..<xs.count {
      sxy += (xs[i] - mx) * (ms[i] - meanM); sxx += (xs[i] - mx) * (xs[i] - mx); syy += (ms[i] - meanM) * (ms[i] - meanM)
    }
    let rho = sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : nil
    return GammaGammaFit(
      parameters: params,
      standardErrors: se.map { GammaGammaParameters(p: $0[0], q: $0[1], gamma: $0[2]) },
      logLikelihood: best.value * n, customersUsed: xs.count, populationMeanSpend: mean,
      frequencySpendCorrelation: rho,
      diagnostics: FitDiagnostics(converged: best.converged, iterations: best.iterations,
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
