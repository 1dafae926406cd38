import RealModule

/// The two parametric families for the gap `T` (days) between purchases in a
/// category, both written as a log-location-scale (accelerated failure time)
/// model:
///
/// ```
/// log T = μ + σ · W,      μ = xᵀβ (log-days),  σ = exp(η) > 0
///
/// Weibull:    W standard minimum extreme value (Gumbel-min)
///             f_W(w) = exp(w − eʷ),   S_W(w) = exp(−eʷ)
///             ⇔ T ~ Weibull(shape k = 1/σ, scale λ = e^μ days),
///               S(t) = exp(−(t/λ)^k)
/// log-normal: W standard normal
///             f_W(w) = φ(w),          S_W(w) = Φ(−w)
///             ⇔ log T ~ N(μ, σ²),  S(t) = Φ(−(log t − μ)/σ)
/// ```
///
/// With `z = (log t − μ)/σ`, the density of T in days is
/// `f(t) = f_W(z) / (σ t)` and the survival `S(t) = S_W(z)`.
public enum IntervalFamily: String, Codable, Sendable, CaseIterable {
  case weibull
  case logNormal = "log_normal"
}

extension IntervalFamily {
  static let halfLogTwoPi = 0.5 * Double.log(2 * Double.pi)
  static let eulerGamma = 0.577_215_664_901_532_9

  /// `log f_W(z)`.
  func logDensityW(_ z: Double) -> Double {
    switch self {
    case .weibull: return z - Double.exp(z)
    case .logNormal: return -0.5 * z * z - IntervalFamily.halfLogTwoPi
    }
  }

  /// `log S_W(z)`, accurate in both tails.
  func logSurvivalW(_ z: Double) -> Double {
    switch self {
    case .weibull: return -Double.exp(z)
    case .logNormal: return logNormalUpperTail(z)
    }
  }

  /// First and second derivatives in z of the log-likelihood contribution
  /// `u(z) = δ log f_W(z) + (1 − δ) log S_W(z)` (event δ = 1, censored δ = 0).
  func derivatives(_ z: Double, event: Bool) -> (Double, Double) {
    switch self {
    case .weibull:
      let e = Double.exp(z)
      return event ? (1 - e, -e) : (-e, -e)
    case .logNormal:
      if event { return (-z, -1) }
      let m = millsRatio(z)
      return (-m, -m * (m - z))
    }
  }

  /// The q-quantile of W.
  func quantileW(_ q: Double) -> Double {
    switch self {
    case .weibull: return Double.log(-Double.log(onePlus: -q))
    case .logNormal: return standardNormalQuantile(q)
    }
  }

  /// `E[W]`: −γ (Euler's constant) for Gumbel-min, 0 for the normal.
  var meanW: Double {
    switch self {
    case .weibull: return -IntervalFamily.eulerGamma
    case .logNormal: return 0
    }
  }

  /// `E[T] = e^μ · M(σ)`: `Γ(1 + σ)` for the Weibull, `exp(σ²/2)` for the
  /// log-normal. Infinite (returned as `nil`) only for absurd σ.
  func meanDays(location mu: Double, scale sigma: Double) -> Double? {
    let logMean: Double
    switch self {
    case .weibull: logMean = mu + Double.logGamma(1 + sigma)
    case .logNormal: logMean = mu + 0.5 * sigma * sigma
    }
    let m = Double.exp(logMean)
    return m.isFinite ? m : nil
  }

  /// Gap `t` in days with `S(t) = s` (so the (1 − s)-quantile).
  func gapWithSurvival(_ s: Double, location mu: Double, scale sigma: Double) -> Double {
    Double.exp(mu + sigma * quantileW(1 - s))
  }

  /// The standardized w with `log S_W(w) = target` (target ≤ 0): the
  /// inverse of `logSurvivalW`, accurate far into the tail.
  func inverseLogSurvivalW(_ target: Double) -> Double {
    switch self {
    case .weibull: return Double.log(-target)  // −e^w = target
    case .logNormal: return logNormalUpperTailInverse(target)
    }
  }

  /// Probability of a purchase in `(e, e + h]` days after the last one given
  /// none in the first e days. Without a return probability (`logitReturn`
  /// nil) it is `[S(e) − S(e + h)] / S(e)`; with π = 1/(1 + e^−α) it is
  /// ```
  /// π [S(e) − S(e + h)] / (1 − π + π S(e))  =  r(e) · [1 − S(e + h)/S(e)],
  /// r(e) = π S(e) / (1 − π + π S(e)) = 1 / (1 + exp(−α − log S(e)))
  /// ```
  /// where r(e) is the probability the customer returns at all given the
  /// silence so far. Computed in log space so it stays exact when `S(e)`
  /// underflows (long-overdue customers).
  func conditionalProbability(
    elapsed e: Double, horizon h: Double, location mu: Double, scale sigma: Double, logitReturn alpha: Double? = nil
  ) -> Double {
    let a = logSurvivalW((Double.log(max(e, 1e-9)) - mu) / sigma)
    let b = logSurvivalW((Double.log(e + h) - mu) / sigma)
    var p = -Double.expMinusOne(b - a)
    if let alpha { p *= returnProbability(logSurvival: a, logitReturn: alpha) }
    return min(1, max(0, p))
  }

  /// `r(e)` above from `log S(e)`.
  func returnProbability(logSurvival a: Double, logitReturn alpha: Double) -> Double {
    1 / (1 + Double.exp(-alpha - a))
  }

  /// `r(e)` for an elapsed time e (1 without a return probability).
  func returnProbability(elapsed e: Double, location mu: Double, scale sigma: Double, logitReturn alpha: Double?) -> Double {
    guard let alpha else { return 1 }
    return returnProbability(logSurvival: logSurvivalW((Double.log(max(e, 1e-9)) - mu) / sigma), logitReturn: alpha)
  }
}

// MARK: - Normal tail helpers

/// `log Φ(−z)` for the standard normal, accurate for large positive z.
func logNormalUpperTail(_ z: Double) -> Double {
  if z < 30 {
    return Double.log(0.5 * Double.erfc(z / 2.0.squareRoot()))
  }
  // Asymptotic series of the Mills ratio: Φ(−z) ≈ φ(z)/z · (1 − 1/z² + 3/z⁴).
  let z2 = z * z
  return -0.5 * z2 - Double.log(z) - IntervalFamily.halfLogTwoPi + Double.log(onePlus: -1 / z2 + 3 / (z2 * z2))
}

/// The inverse Mills ratio `λ(z) = φ(z)/Φ(−z)`.
func millsRatio(_ z: Double) -> Double {
  Double.exp(-0.5 * z * z - IntervalFamily.halfLogTwoPi - logNormalUpperTail(z))
}

/// w with `log Φ(−w) = target` (target ≤ 0).
func logNormalUpperTailInverse(_ target: Double) -> Double {
  if target > -30 {
    return -standardNormalQuantile(Double.exp(target))
  }
  // Newton on g(w) = log Φ(−w) − target, g'(w) = −λ(w); start from the tail.
  var w = (-2 * target).squareRoot()
  for _ in 0..<50 {
    let step = (logNormalUpperTail(w) - target) / millsRatio(w)
    w += step
    if abs(step) < 1e-12 * max(1, abs(w)) { break }
  }
  return w
}

/// `Φ⁻¹(p)`: Acklam's rational approximation (relative error < 1.2e-9)
/// refined by one Halley step on `erfc`, giving close to full precision.
func standardNormalQuantile(_ p: Double) -> Double {
  if p <= 0 { return -.infinity }
  if p >= 1 { return .infinity }
  let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
           1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
  let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
           6.680131188771972e+01, -1.328068155288572e+01]
  let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
           -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
  let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
           3.754408661907416e+00]
  let lo = 0.02425
  var x: Double
  if p < lo {
    let q = (-2 * Double.log(p)).squareRoot()
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
      / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  } else if p <= 1 - lo {
    let q = p - 0.5
    let r = q * q
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
      / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  } else {
    let q = (-2 * Double.log(onePlus: -p)).squareRoot()
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
      / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  let e = 0.5 * Double.erfc(-x / 2.0.squareRoot()) - p
  let u = e * (2 * Double.pi).squareRoot() * Double.exp(x * x / 2)
  x -= u / (1 + x * u / 2)
  return x
}
