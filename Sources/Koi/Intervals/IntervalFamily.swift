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
enum IntervalFamily: String, Codable, Sendable, CaseIterable {
  case weibull
  case logNormal = "log_normal"
}

extension IntervalFamily {
  /// `0.5 * Double.log(2 * Double.pi)`, written as the literal of the same
  /// bits (a test checks them) so it is a constant: the computed form was
  /// initialised lazily, a `swift_once` call in the likelihood's loop.
  static let halfLogTwoPi = 0.918_938_533_204_672_7
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

  /// `log f_W(z)` and the first and second derivatives in z of it (the
  /// log-likelihood contribution of an observed gap): eᶻ computed once for
  /// the Weibull.
  /// ```
  /// Weibull:    (z − eᶻ, 1 − eᶻ, −eᶻ)
  /// log-normal: (log φ(z), −z, −1)
  /// ```
  func logDensityAndEventDerivatives(_ z: Double) -> (logDensity: Double, u1: Double, u2: Double) {
    switch self {
    case .weibull:
      let e = Double.exp(z)
      return (z - e, 1 - e, -e)
    case .logNormal: return (logDensityW(z), -z, -1)
    }
  }

  /// First and second derivatives in z of `log S_W(z)` (the contribution of
  /// a censored interval), given `logSurvival = logSurvivalW(z)` so the
  /// survival is not evaluated again:
  /// ```
  /// Weibull:    (−eᶻ, −eᶻ) = (log S_W, log S_W)
  /// log-normal: (−λ, −λ(λ − z)),  λ = φ(z)/Φ(−z) (`millsRatio(_:logUpperTail:)`)
  /// ```
  func censoredDerivatives(_ z: Double, logSurvival: Double) -> (Double, Double) {
    switch self {
    case .weibull: return (logSurvival, logSurvival)
    case .logNormal:
      let m = millsRatio(z, logUpperTail: logSurvival)
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
    conditionalProbability(
      elapsed: e, logSurvival: logSurvival(elapsed: e, location: mu, scale: sigma), horizon: h, location: mu,
      scale: sigma, logitReturn: alpha)
  }

  /// `conditionalProbability` given `a = log S(e)` (`logSurvival(elapsed:…)`),
  /// for callers that have it already: the same number.
  func conditionalProbability(
    elapsed e: Double, logSurvival a: Double, horizon h: Double, location mu: Double, scale sigma: Double,
    logitReturn alpha: Double?
  ) -> Double {
    let b = logSurvivalW((DayLogarithm.log(e + h) - mu) / sigma)
    var p = -Double.expMinusOne(b - a)
    if let alpha { p *= returnProbability(logSurvival: a, logitReturn: alpha) }
    return min(1, max(0, p))
  }

  /// `log S(e)` for an elapsed time e, days.
  func logSurvival(elapsed e: Double, location mu: Double, scale sigma: Double) -> Double {
    logSurvivalW((DayLogarithm.log(max(e, 1e-9)) - mu) / sigma)
  }

  /// `r(e)` above from `log S(e)`.
  func returnProbability(logSurvival a: Double, logitReturn alpha: Double) -> Double {
    1 / (1 + Double.exp(-alpha - a))
  }
}
