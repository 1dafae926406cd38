import Foundation
import RealModule

/// BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
///
/// While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α)
/// (shape r, rate α, per time unit); after every purchase they drop out with
/// probability p ~ Beta(a, b). Per customer with (x, t_x, T):
///
/// ```
/// ℓ = log Γ(r+x) − log Γ(r) + r log α
///   + log Γ(a+b) + log Γ(b+x) − log Γ(b) − log Γ(a+b+x)
///   + log( (α+T)^−(r+x) + 𝟙[x>0] · a/(b+x−1) · (α+t_x)^−(r+x) )   (log-sum-exp)
/// ```
/// Parameters are unit-free except α, which is in the summary's time unit.
public struct BGNBDParameters: Sendable, Codable, Equatable {
  public var r: Double
  public var alpha: Double
  public var a: Double
  public var b: Double

  public init(r: Double, alpha: Double, a: Double, b: Double) {
    self.r = r; self.alpha = alpha; self.a = a; self.b = b
  }

  var logValues: [Double] { [Double.log(r), Double.log(alpha), Double.log(a), Double.log(b)] }
  init(logValues v: [Double]) {
    self.init(r: Double.exp(v[0]), alpha: Double.exp(v[1]), a: Double.exp(v[2]), b: Double.exp(v[3]))
  }
}

/// A fitted BG/NBD model with its uncertainty and diagnostics.
public struct BGNBDFit: Sendable, Codable, Equatable {
  public var parameters: BGNBDParameters
  /// Natural-scale standard errors (delta method from log-scale observed
  /// information); nil when the information matrix is singular.
  var standardErrors: BGNBDParameters?
  /// Total log-likelihood of the summary (x, t_x, T), in the summary's unit.
  public var logLikelihood: Double
  public var diagnostics: FitDiagnostics
}

public enum BGNBD {
  /// Per-customer log-likelihood (formula in `BGNBDParameters`).
  public static func logLikelihood(_ p: BGNBDParameters, x: Double, tx: Double, t: Double) -> Double {
    let (r, alpha, a, b) = (p.r, p.alpha, p.a, p.b)
    let rx = r + x
    var ll = LifetimeMath.logGamma(rx) - LifetimeMath.logGamma(r) + r * Double.log(alpha)
    ll +=
      LifetimeMath.logGamma(a + b) + LifetimeMath.logGamma(b + x) - LifetimeMath.logGamma(b)
      - LifetimeMath.logGamma(a + b + x)
    let alive = -rx * Double.log(alpha + t)
    let dropped = x > 0 ? Double.log(a) - Double.log(b + x - 1) - rx * Double.log(alpha + tx) : -Double.infinity
    return ll + LifetimeMath.logAddExp(alive, dropped)
  }

  /// Mean log-likelihood over compressed rows with its analytic gradient and
  /// Hessian in (log r, log α, log a, log b). Per row ℓ = X(x) + log(e^A + e^D)
  /// with
  ///
  /// ```
  /// X = log Γ(r+x) − log Γ(r) + r log α + log Γ(a+b) + log Γ(b+x) − log Γ(b) − log Γ(a+b+x)
  /// A = −(r+x) log(α+T),   D = log a − log(b+x−1) − (r+x) log(α+t_x)   (x > 0)
  /// w = e^D/(e^A + e^D),   Δ = ∇D − ∇A
  /// ∇ℓ  = ∇X + (1−w) ∇A + w ∇D
  /// ∇²ℓ = ∇²X + (1−w) ∇²A + w ∇²D + w(1−w) Δ Δᵀ
  /// ```
  /// in the natural parameters, where the only non-zero derivatives are
  ///
  /// ```
  /// ∂X/∂r = ψ(r+x) − ψ(r) + log α     ∂X/∂α = r/α
  /// ∂X/∂a = ψ(a+b) − ψ(a+b+x)         ∂X/∂b = ψ(a+b) + ψ(b+x) − ψ(b) − ψ(a+b+x)
  /// ∂²X/∂r² = ψ₁(r+x) − ψ₁(r)   ∂²X/∂r∂α = 1/α   ∂²X/∂α² = −r/α²
  /// ∂²X/∂a² = ∂²X/∂a∂b = ψ₁(a+b) − ψ₁(a+b+x)
  /// ∂²X/∂b² = ψ₁(a+b) + ψ₁(b+x) − ψ₁(b) − ψ₁(a+b+x)
  /// ∂A/∂r = −log(α+T)   ∂A/∂α = −(r+x)/(α+T)   ∂²A/∂r∂α = −1/(α+T)   ∂²A/∂α² = (r+x)/(α+T)²
  /// D likewise with t_x, plus ∂D/∂a = 1/a, ∂D/∂b = −1/(b+x−1), ∂²D/∂a² = −1/a², ∂²D/∂b² = 1/(b+x−1)²
  /// ```
  /// then converted to the log scale (`Evaluation`). X depends on x alone and
  /// the logs on single times, so per row the work is one exp, one log1p and
  /// table look-ups: rows are sorted by x and the per-row sums are
  /// accumulated per run of equal x and combined with the x-dependent factors
  /// when x changes.
  static func meanLogLikelihood(_ theta: [Double], _ rows: CompressedRecency) -> Evaluation? {
    guard theta.allSatisfy({ $0.isFinite && abs($0) < 30 }) else { return nil }
    let p = BGNBDParameters(logValues: theta)
    let (r, alpha, a, b) = (p.r, p.alpha, p.a, p.b)
    let lgR = LifetimeMath.logGamma(r), lgB = LifetimeMath.logGamma(b), lgAB = LifetimeMath.logGamma(a + b)
    let psiR = LifetimeMath.digamma(r), psiB = LifetimeMath.digamma(b), psiAB = LifetimeMath.digamma(a + b)
    let triR = LifetimeMath.trigamma(r), triB = LifetimeMath.trigamma(b), triAB = LifetimeMath.trigamma(a + b)
    let logAlpha = Double.log(alpha), logA = Double.log(a)
    let logTime = rows.times.map { Double.log(alpha + $0) }
    let inverseTime = rows.times.map { 1 / (alpha + $0) }
    let slot = { (i: Int, j: Int) in hessianSlot(i, j, of: 4) }
    let sums = LifetimeMath.chunkedSum(count: rows.count, width: 15) { range, acc in
      guard !range.isEmpty else { return }
      // Weighted sums over the current run of equal x (see the formulas).
      var n = 0.0, value = 0.0, sW = 0.0, sL = 0.0, sI = 0.0, sI2 = 0.0
      var q0 = 0.0, qR = 0.0, qA = 0.0, qRR = 0.0, qRA = 0.0, qAA = 0.0
      var x = rows.x[range.lowerBound]
      func flush() {
        guard n > 0 else { return }
        let s = r + x
        let c = x > 0 ? 1 / (b + x - 1) : 0
        let lgBX = LifetimeMath.logGamma(b + x), lgABX = LifetimeMath.logGamma(a + b + x)
        let psiRX = LifetimeMath.digamma(r + x), psiBX = LifetimeMath.digamma(b + x),
          psiABX = LifetimeMath.digamma(a + b + x)
        let triABX = LifetimeMath.trigamma(a + b + x)
        acc[0] += value + n * (LifetimeMath.logGamma(s) - lgR + r * logAlpha + lgAB + lgBX - lgB - lgABX)
        acc[1] += -sL + n * (psiRX - psiR + logAlpha)
        acc[2] += -s * sI + n * r / alpha
        acc[3] += sW / a + n * (psiAB - psiABX)
        acc[4] += -c * sW + n * (psiAB + psiBX - psiB - psiABX)
        acc[slot(0, 0)] += qRR + n * (LifetimeMath.trigamma(s) - triR)
        acc[slot(0, 1)] += -sI + s * qRA + n / alpha
        acc[slot(0, 2)] += -qR / a
        acc[slot(0, 3)] += c * qR
        acc[slot(1, 1)] += s * sI2 + s * s * qAA - n * r / (alpha * alpha)
        acc[slot(1, 2)] += -s * qA / a
        acc[slot(1, 3)] += s * c * qA
        acc[slot(2, 2)] += (q0 - sW) / (a * a) + n * (triAB - triABX)
        acc[slot(2, 3)] += -c * q0 / a + n * (triAB - triABX)
        acc[slot(3, 3)] += c * c * (sW + q0) + n * (triAB + LifetimeMath.trigamma(b + x) - triB - triABX)
        (n, value, sW, sL, sI, sI2, q0, qR, qA, qRR, qRA, qAA) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
      }
      var s = r + x
      var logDropped = x > 0 ? logA - Double.log(b + x - 1) : 0
      for row in range {
        if rows.x[row] != x {
          flush()
          x = rows.x[row]
          s = r + x
          logDropped = logA - Double.log(b + x - 1)
        }
        let omega = rows.weight[row]
        let ti = Int(rows.tIndex[row])
        let la = logTime[ti], ia = inverseTime[ti]
        let alive = -s * la
        n += omega
        guard x > 0 else {
          value += omega * alive
          sL += omega * la; sI += omega * ia; sI2 += omega * ia * ia
          continue
        }
        let di0 = Int(rows.txIndex[row])
        let ld = logTime[di0], id = inverseTime[di0]
        let dropped = logDropped - s * ld
        // log-sum-exp and the softmax weight w of D from one exp.
        let gap = dropped - alive
        let e = Double.exp(-abs(gap))
        let w = gap > 0 ? 1 / (1 + e) : e / (1 + e)
        let u = 1 - w
        value += omega * (max(alive, dropped) + Double.log(onePlus: e))
        sW += omega * w
        sL += omega * (u * la + w * ld)
        sI += omega * (u * ia + w * id)
        sI2 += omega * (u * ia * ia + w * id * id)
        let wu = omega * w * u, dL = ld - la, dI = id - ia
        q0 += wu; qR += wu * dL; qA += wu * dI
        qRR += wu * dL * dL; qRA += wu * dL * dI; qAA += wu * dI * dI
      }
      flush()
    }
    return Evaluation(sums: sums, parameters: [r, alpha, a, b], totalWeight: rows.totalWeight)
  }

  /// Fits BG/NBD by maximum likelihood (damped Newton on log-parameters, see
  /// `NewtonMaximizer`), trying up to three starting points.
  ///
  /// - Complexity: O(n log n) to compress, then O(unique (x, t_x, T) rows)
  ///   per likelihood evaluation.
  public static func fit(_ summary: LifetimeSummary, maximumIterations: Int = 200) -> BGNBDFit {
    fit(CompressedRecency(summary), maximumIterations: maximumIterations)
  }

  static func fit(_ rows: CompressedRecency, maximumIterations: Int = 200) -> BGNBDFit {
    let failed = BGNBDParameters(r: 1, alpha: 1, a: 1, b: 1)
    guard rows.count > 0 else {
      return BGNBDFit(
        parameters: failed, standardErrors: nil, logLikelihood: 0,
        diagnostics: FitDiagnostics(
          converged: false, iterations: 0, gradientMaxNorm: 0, attempts: [],
          message: "no customers to fit"))
    }
    // Starting points: unit parameters; α at the mean age (rate ~ 1 per age);
    // a small-rate, rare-dropout start.
    var meanT = 0.0
    for i in 0..<rows.count { meanT += rows.weight[i] * rows.t[i] }
    meanT = max(1e-3, meanT / rows.totalWeight)
    let starts: [(String, [Double])] = [
      ("unit", [0, 0, 0, 0]),
      ("alpha=mean T", [0, Double.log(meanT), 0, 0]),
      ("r=0.5, alpha=mean T, a=0.5, b=5", [Double.log(0.5), Double.log(meanT), Double.log(0.5), Double.log(5)]),
    ]
    var attempts = [String]()
    var best: NewtonMaximizer.Result?
    for (name, start) in starts {
      guard
        let result = NewtonMaximizer.maximize(
          start: start, maximumIterations: maximumIterations,
          objective: {
            meanLogLikelihood($0, rows)
          })
      else {
        attempts.append("start \(name): likelihood not finite at start")
        continue
      }
      attempts.append(
        "start \(name): \(result.converged ? "converged" : "not converged") after \(result.iterations) iterations, mean log-likelihood \(String(format: "%.10g", result.value))"
      )
      if NewtonMaximizer.isBetter(result, than: best) {
        best = result
      }
      if result.converged { break }
    }
    guard let best else {
      return BGNBDFit(
        parameters: failed, standardErrors: nil, logLikelihood: -.infinity.nextUp,
        diagnostics: FitDiagnostics(
          converged: false, iterations: 0, gradientMaxNorm: 0, attempts: attempts,
          message: "BG/NBD likelihood could not be evaluated at any starting point"))
    }
    let params = BGNBDParameters(logValues: best.theta)
    let se = NewtonMaximizer.naturalScaleStandardErrors(
      theta: best.theta, meanHessian: best.hessian, totalWeight: rows.totalWeight)
    var notes = [String]()
    if !best.converged {
      notes.append(
        "BG/NBD did not converge (gradient max-norm \(String(format: "%.3g", best.gradient.map(abs).max() ?? 0))); parameters are the best point found and are not used"
      )
    } else {
      if se == nil {
        notes.append(
          "BG/NBD converged but its information matrix is not positive definite (too few or too similar customers to identify all four parameters); standard errors omitted, predictions use the limit reached"
        )
      }
      if best.theta.contains(where: { abs($0) > 12 }) {
        notes.append(
          "BG/NBD reached a boundary (a parameter beyond e^±12, e.g. no rate heterogeneity or no dropout); predictions are that limit"
        )
      }
    }
    let message = notes.isEmpty ? nil : notes.joined(separator: "; ")
    return BGNBDFit(
      parameters: params,
      standardErrors: se.map { BGNBDParameters(r: $0[0], alpha: $0[1], a: $0[2], b: $0[3]) },
      logLikelihood: best.value * rows.totalWeight,
      diagnostics: FitDiagnostics(
        converged: best.converged, iterations: best.iterations,
        gradientMaxNorm: best.gradient.map(abs).max() ?? 0, attempts: attempts, message: message))
  }

  /// P(alive at T | x, t_x, T):
  ///
  /// ```
  /// P(alive) = 1 / (1 + 𝟙[x>0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))
  /// ```
  /// evaluated as a logistic of the log-odds, so large x cannot overflow.
  public static func probabilityAlive(_ p: BGNBDParameters, x: Double, tx: Double, t: Double) -> Double {
    guard x > 0 else { return 1 }
    let logOdds =
      Double.log(p.a) - Double.log(p.b + x - 1) + (p.r + x) * (Double.log(p.alpha + t) - Double.log(p.alpha + tx))
    return logOdds > 0 ? Double.exp(-logOdds) / (1 + Double.exp(-logOdds)) : 1 / (1 + Double.exp(logOdds))
  }

  /// Expected purchases in (T, T+h] for a customer known to be alive at T
  /// (so λ | data ~ Gamma(r+x, α+T), p | data ~ Beta(a, b+x)):
  ///
  /// ```
  /// E[Y(h) | alive] = E[(1 − e^(−λph)) / p]
  ///   = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+h))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)]
  ///   = (a+b+x−1)/(a−1) · [1 − (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z)]   (Euler)
  /// z = h/(α+T+h)
  /// ```
  /// The Euler form keeps the series parameters small whatever x is, so no
  /// overflow for large x. When a+b+x−1 ≤ 0 (x = 0, a+b ≤ 1) or the series
  /// does not converge in 100 000 terms, the Beta expectation is integrated
  /// by tanh-sinh quadrature instead. |a − 1| < 1e-7 is moved to 1 ± 1e-7
  /// (the expression is continuous there).
  static func expectedPurchasesIfAlive(_ p: BGNBDParameters, x: Double, t: Double, horizon h: Double) -> Double {
    if h <= 0 { return 0 }
    var a = p.a
    if abs(a - 1) < 1e-7 { a = a < 1 ? 1 - 1e-7 : 1 + 1e-7 }
    let b = p.b, r = p.r
    let beta = p.alpha + t
    let z = h / (beta + h)
    let c = a + b + x - 1
    if c > 0.05, let f = LifetimeMath.hypergeometric2F1(a + b - 1 - r, a - 1, c, z) {
      let v = c / (a - 1) * (1 - Double.pow(1 - z, a - 1) * f)
      if v.isFinite && v >= 0 { return v }
    }
    return poissonDropoutExpectation(shape: r + x, rate: beta, a: p.a, b: b + x, horizon: h)
  }

  /// `E[(1 − (β/(β+p h))^s)/p]` for p ~ Beta(a, b): the expected purchases in
  /// h of an alive customer with λ ~ Gamma(s, β) buying as a Poisson process
  /// and dropping out with probability p after each purchase.
  static func poissonDropoutExpectation(shape s: Double, rate beta: Double, a: Double, b: Double, horizon h: Double)
    -> Double
  {
    LifetimeMath.betaExpectation(a: a, b: b) { p, _ in
      // (1 − (1 + p h/β)^(−s)) / p, with expm1/log1p for small p h/β.
      -Double.expMinusOne(-s * Double.log(onePlus: p * h / beta)) / p
    }
  }

  /// Conditional expected purchases in (T, T+h] (FHL 2005, eq. 10):
  /// `P(alive) · E[Y(h) | alive]`.
  public static func expectedPurchases(_ p: BGNBDParameters, x: Double, tx: Double, t: Double, horizon h: Double)
    -> Double
  {
    probabilityAlive(p, x: x, tx: tx, t: t) * expectedPurchasesIfAlive(p, x: x, t: t, horizon: h)
  }

  /// P(no purchase in (T, T+h] | x, t_x, T). A dead customer never buys; an
  /// alive one buys nothing in h with probability E[e^(−λh)] (dropout only
  /// happens at a purchase), λ | alive ~ Gamma(r+x, α+T):
  ///
  /// ```
  /// P(none) = 1 − P(alive) · (1 − ((α+T)/(α+T+h))^(r+x))
  /// ```
  static func probabilityNoPurchase(_ p: BGNBDParameters, x: Double, tx: Double, t: Double, horizon h: Double) -> Double
  {
    let alive = probabilityAlive(p, x: x, tx: tx, t: t)
    // 1 − (1 + h/(α+T))^−(r+x) = −expm1(−(r+x) log1p(h/(α+T)))
    let buy = -Double.expMinusOne(-(p.r + x) * Double.log(onePlus: h / (p.alpha + t)))
    return 1 - alive * buy
  }
}
