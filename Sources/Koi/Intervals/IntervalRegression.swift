import RealModule

/// Right-censored observations of one category for the AFT fit: `y = log t`
/// (t in days), event flag (1 = observed gap, 0 = open interval, censored),
/// `q` covariate values per observation (row-major, intercept implicit), and
/// optional frequency weights (empty: every weight 1). Intercept-only fits
/// use weights to collapse observations with the same whole-day length and
/// event flag into one, which makes them O(distinct lengths) per iteration.
struct IntervalObservations: Sendable {
  var logDays: [Double] = []
  var event: [UInt8] = []
  var covariates: [Double] = []
  var covariateCount = 0
  var weight: [Double] = []

  var count: Int { logDays.count }

  /// Appends `count` observations of `length` days as one of that weight.
  mutating func appendWeighted(length: Int32, event: UInt8, count: Int) {
    logDays.append(DayLogarithm.log(length))
    self.event.append(event)
    weight.append(Double(count))
  }
}

/// One maximum-likelihood fit of a censored accelerated-failure-time model.
struct IntervalRegressionFit: Sendable {
  var family: IntervalFamily
  /// `β`: intercept first, then one coefficient per covariate column.
  var coefficients: [Double]
  /// `η = log σ`.
  var logScale: Double
  /// `α = logit π` when the fit has a return probability, else `nil`.
  var logitReturn: Double?
  var logLikelihood: Double
  /// Standard errors of `(β, η[, α])` from the inverse observed information;
  /// `nil` where the information was not positive definite.
  var standardErrors: [Double]?
  var converged: Bool
  var iterations: Int
}

/// Maximum likelihood for the censored AFT model of `IntervalFamily`,
/// optionally with a return probability (a mixture "cure" model).
///
/// Without return probability:
/// ```
/// log L(β, η) = Σ_events   [ log f_W(z_i) − η − log t_i ]
///             + Σ_censored   log S_W(z_i),
/// z_i = (log t_i − x_iᵀβ) / σ,   σ = e^η,   t_i in days.
/// ```
/// An event contributes the log density of T in days; a right-censored open
/// interval contributes the log survival at its length.
///
/// With return probability π = 1/(1 + e^−α): each interval ends in a purchase
/// with probability π (then after a gap with the density above), or never
/// (the customer has stopped buying the category). An observed gap shows the
/// customer returned; an open interval of length t is either a returner not
/// back yet or a stopper:
/// ```
/// log L(β, η, α) = Σ_events   [ log π + log f_W(z_i) − η − log t_i ]
///                + Σ_censored   log(1 − π + π S_W(z_i))
/// ```
/// Without it, customers who have stopped would be read as very long gaps
/// and inflate the cycle; with it the cycle is that of returning customers.
///
/// Observations are treated as independent (a customer's successive gaps
/// are a working-independence assumption; the standard errors are the naive
/// ones).
///
/// Newton–Raphson on `(β, η[, α])` with analytic derivatives, summed in
/// fixed chunks in parallel and reduced in chunk order (deterministic), by
/// `NewtonOptimizer` with step halving: the step solves `(−H) Δ = ∇ℓ` by
/// Cholesky, with a growing ridge when −H is not positive definite, and
/// halves until the log-likelihood does not decrease. Standard errors are the square roots
/// of the diagonal of `(−H)⁻¹` at the optimum (`inverseSymmetricPositiveDefinite`).
/// `σ` is floored at 0.02 (gaps varying by less than 2 %, below the one-day
/// resolution of typical cycles) so identical gaps cannot send the density
/// to infinity; |α| is capped at 12.
///
/// - Complexity: O(n · p²) per iteration for n observations and p − 1
///   covariates, usually 5–15 iterations; O(p³) per solve.
enum IntervalRegression {
  static let minimumLogScale = Double.log(0.02)
  /// |α| ≤ 12: π within 6·10⁻⁶ of 0 or 1 is as good as the boundary, and
  /// keeps Newton from walking to infinity when nobody (or everybody) churns.
  static let maximumLogitReturn = 12.0

  struct Evaluation {
    var logLikelihood: Double
    var gradient: [Double]
    var negativeHessian: Matrix
  }

  /// The log-likelihood at `(β, η[, α])` and, with `derivatives`, its
  /// gradient and negative Hessian. `twoCovariateKernel` (a test hook) lets
  /// fits with two covariates, the standard ones, accumulate in registers
  /// (`accumulateTwoCovariates`): the same terms added in the same order.
  /// There, when both covariate coefficients are 0 (where a covariate fit
  /// starts, warm from the intercept-only fit), z depends on `log t` alone,
  /// and a censored observation's term is taken from an earlier one with
  /// the same `log t` and z (`CensoredTermCache`) instead of computed again.
  static func evaluate(
    _ obs: IntervalObservations, family: IntervalFamily, beta: [Double], logScale eta: Double,
    logitReturn alpha: Double?, derivatives: Bool, twoCovariateKernel: Bool = true
  ) -> Evaluation {
    let q = obs.covariateCount
    let p = q + 1
    let cure = alpha != nil
    let dim = p + 1 + (cure ? 1 : 0)
    let a = p + 1  // index of α when cure
    let n = obs.count
    let chunks = Parallel.chunkCount(for: n, minimumChunk: minimumChunk)
    let stride = 1 + dim + dim * dim
    var partial = [Double](repeating: 0, count: chunks * stride)
    let sigma = Double.exp(eta)
    let invSigma = 1 / sigma
    // π and 1 − π computed separately so neither cancels.
    let pi = cure ? 1 / (1 + Double.exp(-alpha!)) : 1  // alpha checked non-nil by `cure`
    let oneMinusPi = cure ? 1 / (1 + Double.exp(alpha!)) : 0
    let logPi = cure ? -Double.log(onePlus: Double.exp(-alpha!)) : 0
    partial.withUnsafeMutableBufferPointer { out in
      obs.logDays.withUnsafeBufferPointer { y in
        obs.event.withUnsafeBufferPointer { ev in
          obs.covariates.withUnsafeBufferPointer { x in
            obs.weight.withUnsafeBufferPointer { weight in
              beta.withUnsafeBufferPointer { b in
                let weighted = weight.count == n
                Parallel.forEachChunk(count: n, chunkCount: chunks) { chunk, range in
                  let o = out.baseAddress! + chunk * stride  // sized chunks × stride above
                  if derivatives && q == 2 && twoCovariateKernel {
                    accumulateTwoCovariates(
                      range: range, into: o, y: y, event: ev, x: x, weight: weighted ? weight : nil, beta: b,
                      family: family, eta: eta, invSigma: invSigma, cure: cure, pi: pi, oneMinusPi: oneMinusPi,
                      logPi: logPi, reuseCensoredTerms: b[1] == 0 && b[2] == 0)
                    return
                  }
                  var ll = 0.0
                  var xi = [Double](repeating: 1, count: p)
                  for i in range {
                    var mu = b[0]
                    for j in 0..<q {
                      let v = x[i * q + j]
                      xi[j + 1] = v
                      mu += b[j + 1] * v
                    }
                    let z = (y[i] - mu) * invSigma
                    let isEvent = ev[i] != 0
                    let wi = weighted ? weight[i] : 1
                    let t = term(
                      z: z, logDays: y[i], isEvent: isEvent, family: family, eta: eta, cure: cure, pi: pi,
                      oneMinusPi: oneMinusPi, logPi: logPi, derivatives: derivatives)
                    ll += wi * t.logLikelihood
                    if !derivatives { continue }
                    var (u1, u2) = (t.u1, t.u2)
                    let (ga, haa, hza) = (t.ga, t.haa, t.hza)
                    u1 *= wi
                    u2 *= wi
                    let g = o + 1
                    let h = o + 1 + dim
                    let gb = -u1 * invSigma
                    for j in 0..<p { g[j] += gb * xi[j] }
                    g[p] += -u1 * z - (isEvent ? wi : 0)
                    // Negative Hessian, upper triangle (mirrored after the reduction).
                    let hbb = -u2 * invSigma * invSigma
                    for j in 0..<p {
                      let c = hbb * xi[j]
                      for k in j..<p { h[j * dim + k] += c * xi[k] }
                    }
                    let hbe = -(u2 * z + u1) * invSigma
                    for j in 0..<p { h[j * dim + p] += hbe * xi[j] }
                    h[p * dim + p] += -(u2 * z * z + u1 * z)
                    if cure {
                      g[a] += wi * ga
                      h[a * dim + a] += wi * haa
                      // ∂z/∂β = −x/σ, ∂z/∂η = −z; negative Hessian flips the sign.
                      let c = wi * hza
                      for j in 0..<p { h[j * dim + a] += c * xi[j] * invSigma }
                      h[p * dim + a] += c * z
                    }
                  }
                  o[0] = ll
                }
              }
            }
          }
        }
      }
    }
    var ll = 0.0
    var grad = [Double](repeating: 0, count: dim)
    var hess = Matrix(rows: dim, columns: dim)
    for c in 0..<chunks {
      let base = c * stride
      ll += partial[base]
      for j in 0..<dim { grad[j] += partial[base + 1 + j] }
      for j in 0..<dim { for k in j..<dim { hess[j, k] += partial[base + 1 + dim + j * dim + k] } }
    }
    for j in 0..<dim { for k in (j + 1)..<dim { hess[k, j] = hess[j, k] } }
    return Evaluation(logLikelihood: ll, gradient: grad, negativeHessian: hess)
  }

  /// `term`'s result.
  typealias Term = (logLikelihood: Double, u1: Double, u2: Double, ga: Double, haa: Double, hza: Double)

  /// One observation's part of `evaluate`, before its weight: the
  /// log-likelihood term and, with `derivatives`, u1, u2 (d/dz and d²/dz²
  /// of the term) and, with a return probability, ga, haa, hza (d/dα,
  /// −d²/dα², d²/dz dα). Shared by the general loop and the two-covariate
  /// kernel, so both add the very same numbers.
  @inline(__always)
  static func term(
    z: Double, logDays y: Double, isEvent: Bool, family: IntervalFamily, eta: Double, cure: Bool, pi: Double,
    oneMinusPi: Double, logPi: Double, derivatives: Bool
  ) -> Term {
    let v = pi * oneMinusPi
    // The derivatives reuse the term's own exp/erfc values
    // (`logDensityAndEventDerivatives`, `censoredDerivatives`): a censored
    // log-normal observation costs 6 libm calls instead of 8.
    if isEvent {
      guard derivatives else { return (family.logDensityW(z) - eta - y + logPi, 0, 0, 0, 0, 0) }
      let (logF, u1, u2) = family.logDensityAndEventDerivatives(z)
      let ll = logF - eta - y + logPi
      return cure ? (ll, u1, u2, oneMinusPi, v, 0) : (ll, u1, u2, 0, 0, 0)
    }
    guard cure else {
      let ll = family.logSurvivalW(z)
      guard derivatives else { return (ll, 0, 0, 0, 0, 0) }
      let (u1, u2) = family.censoredDerivatives(z, logSurvival: ll)
      return (ll, u1, u2, 0, 0, 0)
    }
    // log(1 − π + π S),  S = S_W(z).
    let logS = family.logSurvivalW(z)
    let S = Double.exp(logS)
    let D = -Double.expMinusOne(logS)  // 1 − S
    let A = oneMinusPi + pi * S
    let ll = Double.log(A)
    guard derivatives else { return (ll, 0, 0, 0, 0, 0) }
    let rho = pi * S / A  // P(will return | T > t)
    let ga = -D * v / A
    let haa = D * D * v * v / (A * A) + D * v * (1 - 2 * pi) / A
    // S underflowed (rho 0): a certain stopper; the survival part is flat
    // (and its derivatives may overflow to ±∞ · 0).
    guard rho > 0 else { return (ll, 0, 0, ga, haa, 0) }
    let (h1, h2) = family.censoredDerivatives(z, logSurvival: logS)
    return (ll, rho * h1, rho * h2 + rho * (1 - rho) * h1 * h1, ga, haa, v * S * h1 / (A * A))
  }

  /// `evaluate`'s chunk loop with derivatives for exactly two covariates
  /// (`p = 3`): every sum in a local instead of the chunk's slot in memory,
  /// written once at the end. Each sum receives the same terms, computed by
  /// the same expressions, in the same order as in the general loop, from
  /// the same starting +0, so the chunk's partial sums are bit-identical
  /// (a test compares the two).
  ///
  /// The observations go in blocks of `termBlock`: first every term of the
  /// block (`term`, with its libm calls) into a scratch buffer, then the
  /// sums over the block. A call clobbers every floating-point register
  /// (all are caller-saved on x86-64 and arm64), so with terms and sums in
  /// one loop the 21 sums were stored and reloaded around each of a
  /// censored observation's six libm calls; apart, the summing loop has no
  /// calls. The order in which each sum receives its terms is unchanged.
  /// With `reuseCensoredTerms`, censored terms go through a
  /// `CensoredTermCache` of the chunk's own.
  ///
  /// - Complexity: O(range.count).
  @inline(__always)
  static func accumulateTwoCovariates(
    range: Range<Int>, into o: UnsafeMutablePointer<Double>, y: UnsafeBufferPointer<Double>,
    event ev: UnsafeBufferPointer<UInt8>, x: UnsafeBufferPointer<Double>, weight: UnsafeBufferPointer<Double>?,
    beta b: UnsafeBufferPointer<Double>, family: IntervalFamily, eta: Double, invSigma: Double, cure: Bool,
    pi: Double, oneMinusPi: Double, logPi: Double, reuseCensoredTerms: Bool = false
  ) {
    let dim = cure ? 5 : 4
    var cache = reuseCensoredTerms ? CensoredTermCache() : nil
    let one = 1.0  // xi[0], the intercept's column
    var ll = 0.0
    var g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0, g4 = 0.0
    var h00 = 0.0, h01 = 0.0, h02 = 0.0, h03 = 0.0, h04 = 0.0
    var h11 = 0.0, h12 = 0.0, h13 = 0.0, h14 = 0.0
    var h22 = 0.0, h23 = 0.0, h24 = 0.0
    var h33 = 0.0, h34 = 0.0, h44 = 0.0
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 7 * termBlock) { scratch in
      let zs = scratch.baseAddress!  // capacity 7 · termBlock, above
      let lls = zs + termBlock, u1s = lls + termBlock, u2s = u1s + termBlock
      let gas = u2s + termBlock, haas = gas + termBlock, hzas = haas + termBlock
      var blockStart = range.lowerBound
      while blockStart < range.upperBound {
        let block = blockStart..<min(blockStart + termBlock, range.upperBound)
        for i in block {
          var mu = b[0]
          mu += b[1] * x[i * 2]
          mu += b[2] * x[i * 2 + 1]
          let z = (y[i] - mu) * invSigma
          let isEvent = ev[i] != 0
          func compute() -> Term {
            term(
              z: z, logDays: y[i], isEvent: isEvent, family: family, eta: eta, cure: cure, pi: pi,
              oneMinusPi: oneMinusPi, logPi: logPi, derivatives: true)
          }
          let t = !isEvent && cache != nil ? cache!.term(z: z, logDays: y[i], compute) : compute()  // cache checked
          let k = i - blockStart
          zs[k] = z
          lls[k] = t.logLikelihood
          u1s[k] = t.u1
          u2s[k] = t.u2
          gas[k] = t.ga
          haas[k] = t.haa
          hzas[k] = t.hza
        }
        for i in block {
          let k = i - blockStart
          let x1 = x[i * 2], x2 = x[i * 2 + 1]
          let z = zs[k]
          let isEvent = ev[i] != 0
          let wi = weight?[i] ?? 1
          ll += wi * lls[k]
          let u1 = u1s[k] * wi, u2 = u2s[k] * wi
          let gb = -u1 * invSigma
          g0 += gb * one
          g1 += gb * x1
          g2 += gb * x2
          g3 += -u1 * z - (isEvent ? wi : 0)
          let hbb = -u2 * invSigma * invSigma
          let c0 = hbb * one, c1 = hbb * x1, c2 = hbb * x2
          h00 += c0 * one
          h01 += c0 * x1
          h02 += c0 * x2
          h11 += c1 * x1
          h12 += c1 * x2
          h22 += c2 * x2
          let hbe = -(u2 * z + u1) * invSigma
          h03 += hbe * one
          h13 += hbe * x1
          h23 += hbe * x2
          h33 += -(u2 * z * z + u1 * z)
          if cure {
            g4 += wi * gas[k]
            h44 += wi * haas[k]
            let c = wi * hzas[k]
            h04 += c * one * invSigma
            h14 += c * x1 * invSigma
            h24 += c * x2 * invSigma
            h34 += c * z
          }
        }
        blockStart = block.upperBound
      }
    }
    o[0] = ll
    let g = o + 1
    let h = o + 1 + dim
    g[0] = g0; g[1] = g1; g[2] = g2; g[3] = g3
    h[0] = h00; h[1] = h01; h[2] = h02; h[3] = h03
    h[dim + 1] = h11; h[dim + 2] = h12; h[dim + 3] = h13
    h[2 * dim + 2] = h22; h[2 * dim + 3] = h23
    h[3 * dim + 3] = h33
    if cure {
      g[4] = g4
      h[4] = h04; h[dim + 4] = h14; h[2 * dim + 4] = h24; h[3 * dim + 4] = h34
      h[4 * dim + 4] = h44
    }
  }

  /// Observations per chunk of `evaluate`'s parallel loop, at least.
  static let minimumChunk = 32_768

  /// Observations per block of `accumulateTwoCovariates`: seven terms each
  /// in a 14 KB scratch buffer, which stays in the L1 cache.
  static let termBlock = 256

  /// Starting values from the observed gaps only: moments of `log t` matched
  /// to the family (`E[log T] = μ − γσ`, `sd = πσ/√6` for the Weibull).
  static func start(_ obs: IntervalObservations, family: IntervalFamily) -> ([Double], Double) {
    var s = 0.0, ss = 0.0, n = 0.0
    let weighted = obs.weight.count == obs.count
    for i in 0..<obs.count where obs.event[i] != 0 {
      let w = weighted ? obs.weight[i] : 1
      s += w * obs.logDays[i]; ss += w * obs.logDays[i] * obs.logDays[i]; n += w
    }
    if n == 0 {
      for i in 0..<obs.count {
        let w = weighted ? obs.weight[i] : 1
        s += w * obs.logDays[i]; ss += w * obs.logDays[i] * obs.logDays[i]; n += w
      }
    }
    let mean = n > 0 ? s / n : 0
    let sd = max(0.1, n > 1 ? max(0, (ss - n * mean * mean) / (n - 1)).squareRoot() : 0.5)
    var beta = [Double](repeating: 0, count: obs.covariateCount + 1)
    switch family {
    case .weibull:
      let sigma = sd * 6.0.squareRoot() / Double.pi
      beta[0] = mean + IntervalFamily.eulerGamma * sigma
      return (beta, Double.log(sigma))
    case .logNormal:
      beta[0] = mean
      return (beta, Double.log(sd))
    }
  }

  /// Newton with step halving (`NewtonOptimizer`): converged when a step
  /// changes no parameter by 1e-8 or the log-likelihood by 1e-11 relative,
  /// or when no step along the Newton direction increases it (at the
  /// optimum to rounding).
  static func newtonOptions(maximumIterations: Int) -> NewtonOptimizer.Options {
    NewtonOptimizer.Options(
      stepControl: .halving(maximumHalvings: 40), maximumIterations: maximumIterations, acceptance: 1e-12,
      parameterTolerance: 1e-8, valueTolerance: 1e-11, noAscentIsConvergence: true)
  }

  /// - Parameters:
  ///   - start: starting `(β, η)`; moments of the gaps when `nil`.
  ///   - cure: also fit the return probability π = 1/(1 + e^−α) (see
  ///     `IntervalRegression`), started at `startLogitReturn`.
  static func fit(
    _ obs: IntervalObservations, family: IntervalFamily, start initial: ([Double], Double)? = nil,
    cure: Bool = false, startLogitReturn: Double = 2, maximumIterations: Int = 100
  ) -> IntervalRegressionFit {
    let (startBeta, startEta) = initial ?? start(obs, family: family)
    let p = startBeta.count
    let dim = p + 1 + (cure ? 1 : 0)
    // θ = (β, η[, α]).
    func evaluation(_ theta: [Double], derivatives: Bool) -> NewtonOptimizer.Evaluation {
      let e = evaluate(
        obs, family: family, beta: Array(theta[..<p]), logScale: theta[p], logitReturn: cure ? theta[p + 1] : nil,
        derivatives: derivatives)
      return NewtonOptimizer.Evaluation(
        value: e.logLikelihood, gradient: e.gradient, negativeHessian: e.negativeHessian)
    }
    let theta0 = startBeta + [startEta] + (cure ? [startLogitReturn] : [])
    let result = NewtonOptimizer.maximize(
      start: theta0, at: evaluation(theta0, derivatives: true),
      options: newtonOptions(maximumIterations: maximumIterations),
      project: { theta in
        var theta = theta
        theta[p] = max(minimumLogScale, theta[p])
        if cure { theta[p + 1] = min(maximumLogitReturn, max(-maximumLogitReturn, theta[p + 1])) }
        return theta
      },
      objective: { evaluation($0, derivatives: $1) })
    let beta = Array(result.theta[..<p])
    let eta = result.theta[p]
    let alpha: Double? = cure ? result.theta[p + 1] : nil
    var se: [Double]? = nil
    if let inv = try? LinearAlgebra.inverseSymmetricPositiveDefinite(result.evaluation.negativeHessian) {
      let d = (0..<dim).map { inv[$0, $0] }
      if d.allSatisfy({ $0 >= 0 && $0.isFinite }) { se = d.map { $0.squareRoot() } }
    }
    return IntervalRegressionFit(
      family: family, coefficients: beta, logScale: eta, logitReturn: alpha,
      logLikelihood: result.evaluation.value, standardErrors: se, converged: result.converged,
      iterations: result.iterations)
  }
}

/// Censored observations' terms (`IntervalRegression.term`) within one
/// evaluation, by `log t`: an observation whose `log t` and z have the bits
/// of a remembered one gets its term, which is a function of z and `log t`
/// alone (the evaluation's η and α fixed), so the very same numbers; any
/// other is computed and remembered in the slot of its `log t`.
/// Worth it where z depends on `log t` alone: with the covariate
/// coefficients 0, the ~3,000 distinct open-interval lengths stand for a
/// category's hundreds of thousands of open intervals, each otherwise six
/// libm calls (log-normal with return probability).
struct CensoredTermCache {
  /// Direct-mapped slots, by a multiplicative hash of `log t`'s bits: 4,096
  /// (256 KB of terms, per chunk of observations).
  static let slotBits = 12

  private var logDays = [UInt64](repeating: 0, count: 1 << slotBits)
  private var z = [UInt64](repeating: 0, count: 1 << slotBits)
  private var filled = [Bool](repeating: false, count: 1 << slotBits)
  private var terms = [IntervalRegression.Term](repeating: (0, 0, 0, 0, 0, 0), count: 1 << slotBits)

  /// The term of a censored observation with `z` and `log t = y`: the
  /// remembered one when both match bit for bit, else `compute()`.
  @inline(__always)
  mutating func term(z: Double, logDays y: Double, _ compute: () -> IntervalRegression.Term)
    -> IntervalRegression.Term
  {
    let key = y.bitPattern
    let slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - Self.slotBits))
    if filled[slot] && logDays[slot] == key && self.z[slot] == z.bitPattern { return terms[slot] }
    let t = compute()
    filled[slot] = true
    logDays[slot] = key
    self.z[slot] = z.bitPattern
    terms[slot] = t
    return t
  }
}
