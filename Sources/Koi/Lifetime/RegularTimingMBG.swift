import RealModule

/// MBG/CNBD-k (Platzer & Reutterer 2016, "Ticking away the moments: timing
/// regularity helps to better predict customer activity", Marketing Science
/// 35(5)): the MBG/NBD of Batislam, Denizel & Filiztekin (2007) with Erlang-k
/// inter-purchase times, so customers who buy regularly are not mistaken for
/// lapsed ones.
///
/// While alive a customer's gaps between purchases are Erlang(k, kλ) (mean
/// 1/λ, so λ is purchases per time unit whatever k is), λ ~ Gamma(r, α); at
/// the first purchase and after every repeat purchase they drop out with
/// probability p ~ Beta(a, b). With α' = α/k (the Erlang stage rate kλ is
/// Gamma(r, α')), s_i = r + kx + i:
///
/// ```
/// Aᵢ = log B(a, b+x+1) − log B(a, b) + log Γ(sᵢ) − log Γ(r) + r log α'
///      + i log(T − t_x) − log i! − sᵢ log(α' + T)            i = 0 … k−1   (alive at T)
/// D  = log B(a+1, b+x) − log B(a, b) + log Γ(s₀) − log Γ(r) + r log α'
///      − s₀ log(α' + t_x)                                                  (dropped after x)
/// ℓ  = (k−1) Σ ln τ − x log (k−1)! + log(Σᵢ e^Aᵢ + e^D)
/// ```
/// With k = 1 this is the MBG/NBD. BTYDplus writes the same model with the
/// Erlang stage rate as the Gamma variable, so its α equals α/k here.
///
/// Comparability with BG/NBD: both ℓ are log densities of the same event data
/// (the repeat purchase times after the first purchase, in the summary's
/// unit): BG/NBD's is the k = 1 Poisson density, which depends on the times
/// only through (x, t_x, T). So the two likelihoods are compared directly on
/// the same summary; the model with k chosen from 1…K counts one extra
/// parameter in the AIC.
public struct RegularTimingParameters: Sendable, Codable, Equatable {
  /// Erlang order: 1 = Poisson timing, larger = more regular.
  public var k: Int
  public var r: Double
  /// Gamma rate of λ, in the summary's time unit.
  public var alpha: Double
  public var a: Double
  public var b: Double

  public init(k: Int, r: Double, alpha: Double, a: Double, b: Double) {
    self.k = k; self.r = r; self.alpha = alpha; self.a = a; self.b = b
  }
}

public struct RegularTimingFit: Sendable, Codable, Equatable {
  public var parameters: RegularTimingParameters
  /// Natural-scale SEs of r, α, a, b (k is chosen, not estimated continuously).
  var standardErrors: RegularTimingParameters?
  /// Total log-likelihood at the chosen k, including the timing term.
  public var logLikelihood: Double
  /// Log-likelihood for every k tried (index 0 is k = 1); nil where the fit
  /// failed. Shorter than the maximum K when the search stopped early.
  var logLikelihoodByK: [Double?]
  public var diagnostics: FitDiagnostics
}

enum RegularTimingMBG {
  /// The log-components (A₀…A_{k−1}, D) of rows and the posterior from them,
  /// in two steps: what depends on the parameters and x alone (the log Γ and
  /// log B terms) when x changes, the rest per row, so scoring rows sorted by
  /// x calls log Γ k + 7 times per x instead of 2k + 10 times per row. Each
  /// component is the sum of the same terms in the same order as one
  /// expression per row would add them.
  struct ComponentTerms {
    let k: Int
    /// α' = α/k.
    let alphaStage: Double
    private let r: Double, a: Double, b: Double
    private let lB: Double, common: Double
    private var logFactorial: [Double]
    private(set) var x = Double.nan
    /// sᵢ = r + kx + i.
    private var shape: [Double]
    /// log B(a, b+x+1) − log B(a, b) + log Γ(sᵢ) − log Γ(r) + r log α'.
    private var aliveBase: [Double]
    /// log B(a+1, b+x) − log B(a, b) + log Γ(s₀) − log Γ(r) + r log α'.
    private var droppedBase = 0.0

    init(_ p: RegularTimingParameters) {
      (k, r, a, b) = (p.k, p.r, p.a, p.b)
      alphaStage = p.alpha / Double(p.k)
      lB = LifetimeMath.logBeta(a, b)
      common = -LifetimeMath.logGamma(r) + r * Double.log(alphaStage)
      logFactorial = (0..<p.k).map { LifetimeMath.logGamma(Double($0) + 1) }
      shape = [Double](repeating: 0, count: p.k)
      aliveBase = shape
    }

    /// `RegularTimingMBG.posterior` of a row, given log(α'+T) and
    /// log(α'+t_x): P(alive), and the alive-stage weights into `weights`.
    mutating func posterior(
      x: Double, tx: Double, t: Double, logAT: Double, logATx: Double, scratch comp: inout [Double],
      weights: inout [Double]
    ) -> Double {
      if x != self.x { set(x: x) }
      components(tx: tx, t: t, logAT: logAT, logATx: logATx, into: &comp)
      var lseAlive = -Double.infinity
      for i in 0..<k { lseAlive = LifetimeMath.logAddExp(lseAlive, comp[i]) }
      let lse = LifetimeMath.logAddExp(lseAlive, comp[k])
      for i in 0..<k { weights[i] = Double.exp(comp[i] - lseAlive) }
      return Double.exp(lseAlive - lse)
    }

    private mutating func set(x: Double) {
      self.x = x
      let aliveBeta = LifetimeMath.logBeta(a, b + x + 1) - lB
      for i in 0..<k {
        shape[i] = r + Double(k) * x + Double(i)
        aliveBase[i] = aliveBeta + LifetimeMath.logGamma(shape[i]) + common
      }
      droppedBase = LifetimeMath.logBeta(a + 1, b + x) - lB + LifetimeMath.logGamma(shape[0]) + common
    }

    /// The components of a row with the x last set, given
    /// log(α'+T) and log(α'+t_x); k + 1 entries of `out`.
    private func components(tx: Double, t: Double, logAT: Double, logATx: Double, into out: inout [Double]) {
      let gap = t - tx
      let logGap = k > 1 && gap > 0 ? DayLogarithm.log(gap) : 0
      for i in 0..<k {
        if i > 0 && gap <= 0 { out[i] = -.infinity; continue }
        out[i] = aliveBase[i] + (i > 0 ? Double(i) * logGap - logFactorial[i] : 0) - shape[i] * logAT
      }
      out[k] = droppedBase - shape[0] * logATx
    }
  }

  /// Mean log-likelihood (without the timing constant) with its analytic
  /// gradient and Hessian in (log r, log α, log a, log b). Per row
  /// ℓ = log Σ_c e^{C_c} over the components C ∈ {A₀…A_{k−1}, D}, so with the
  /// softmax weights w_c, in the natural parameters (r, α', a, b)
  /// (∂/∂log α = α' ∂/∂α'):
  ///
  /// ```
  /// ∇ℓ = Σ w_c ∇C_c,     ∇²ℓ = Σ w_c (∇²C_c + ∇C_c ∇C_cᵀ) − ∇ℓ ∇ℓᵀ
  /// ∂Aᵢ/∂r = ψ(sᵢ) − ψ(r) + log α' − log(α'+T)     ∂D/∂r = ψ(s₀) − ψ(r) + log α' − log(α'+t_x)
  /// ∂Aᵢ/∂α' = r/α' − sᵢ/(α'+T)                     ∂D/∂α' = r/α' − s₀/(α'+t_x)
  /// ∂Aᵢ/∂a = ψ(a+b) − ψ(a+b+x+1)                   ∂D/∂a = 1/a + ψ(a+b) − ψ(a+b+x+1)
  /// ∂Aᵢ/∂b = ψ(b+x+1) − ψ(b) + ψ(a+b) − ψ(a+b+x+1) ∂D/∂b = ψ(b+x) − ψ(b) + ψ(a+b) − ψ(a+b+x+1)
  /// ∂²Aᵢ/∂r² = ψ₁(sᵢ) − ψ₁(r)   ∂²Aᵢ/∂r∂α' = 1/α' − 1/(α'+T)   ∂²Aᵢ/∂α'² = −r/α'² + sᵢ/(α'+T)²
  /// ∂²Aᵢ/∂a² = ∂²Aᵢ/∂a∂b = ∂²D/∂a∂b = ψ₁(a+b) − ψ₁(a+b+x+1),   ∂²D/∂a² = that − 1/a²
  /// ∂²Aᵢ/∂b² = ψ₁(b+x+1) − ψ₁(b) + ψ₁(a+b) − ψ₁(a+b+x+1)      ∂²D/∂b² = ψ₁(b+x) − ψ₁(b) + ψ₁(a+b) − ψ₁(a+b+x+1)
  /// ```
  /// (D's r and α' second derivatives as Aᵢ's with s₀ and t_x); no component
  /// mixes (r, α') with (a, b).
  ///
  /// Per row the work is k `exp` (the largest component's e⁰ = 1 is not
  /// computed), one `log`, and log(T − t_x) from `DayLogarithm` for whole
  /// days; the 15 sums run in locals (from +0, in row order, so the chunk
  /// sums are those of accumulating in the output array) and the per-x and
  /// per-component terms sit in one scratch buffer. A test compares the sums
  /// bit for bit with the plain loop this replaced.
  ///
  /// - Complexity: O(k · rows), parallel over fixed chunks of rows.
  static func meanLogLikelihood(_ theta: [Double], k: Int, _ rows: CompressedRecency) -> Evaluation? {
    guard theta.allSatisfy({ $0.isFinite && abs($0) < 30 }) else { return nil }
    let r = Double.exp(theta[0]), alpha = Double.exp(theta[1]), a = Double.exp(theta[2]), b = Double.exp(theta[3])
    let al = alpha / Double(k)
    let psiR = LifetimeMath.digamma(r), psiB = LifetimeMath.digamma(b), psiAB = LifetimeMath.digamma(a + b)
    let triR = LifetimeMath.trigamma(r), triB = LifetimeMath.trigamma(b), triAB = LifetimeMath.trigamma(a + b)
    let logAl = Double.log(al)
    let lB = LifetimeMath.logBeta(a, b)
    let common = -LifetimeMath.logGamma(r) + r * logAl
    let kd = Double(k)
    let logFactorial = (0..<k).map { LifetimeMath.logGamma(Double($0) + 1) }
    let logTime = rows.times.map { Double.log(al + $0) }
    let inverseTime = rows.times.map { 1 / (al + $0) }
    let (rOverAl, inverseAl, curvatureAl, inverseA2) = (r / al, 1 / al, -r / (al * al), 1 / (a * a))
    let sums = LifetimeMath.chunkedSum(count: rows.count, width: 15) { range, acc in
      let width = k + 1
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 5 * width) { scratch in
        // Terms that depend on x alone, recomputed when x changes (rows are
        // sorted by x). Component c < k is Aᵢ (i = c), c = k is D.
        let base = scratch.baseAddress!  // C_c without the time terms; capacity 5·width > 0
        let shape = base + width  // sᵢ; s₀ for D
        let gr0 = shape + width  // ψ(s_c) − ψ(r) + log α'
        let hrr = gr0 + width  // ψ₁(s_c) − ψ₁(r)
        let comp = hrr + width
        var cachedX = -1.0
        var gaA = 0.0, gbA = 0.0, gaD = 0.0, gbD = 0.0, hAB = 0.0, hbbA = 0.0, hbbD = 0.0
        var value = 0.0, g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0
        var h00 = 0.0, h01 = 0.0, h02 = 0.0, h03 = 0.0, h11 = 0.0, h12 = 0.0, h13 = 0.0, h22 = 0.0, h23 = 0.0, h33 = 0.0
        for row in range {
          let x = rows.x[row], w = rows.weight[row]
          if x != cachedX {
            cachedX = x
            let aliveBeta = LifetimeMath.logBeta(a, b + x + 1) - lB
            for c in 0...k {
              let i = c < k ? c : 0
              let sc = r + kd * x + Double(i)
              shape[c] = sc
              base[c] =
                (c < k ? aliveBeta - logFactorial[i] : LifetimeMath.logBeta(a + 1, b + x) - lB)
                + LifetimeMath.logGamma(sc) + common
              gr0[c] = LifetimeMath.digamma(sc) - psiR + logAl
              hrr[c] = LifetimeMath.trigamma(sc) - triR
            }
            let psiABX1 = LifetimeMath.digamma(a + b + x + 1), triABX1 = LifetimeMath.trigamma(a + b + x + 1)
            gaA = psiAB - psiABX1
            gbA = LifetimeMath.digamma(b + x + 1) - psiB + psiAB - psiABX1
            gaD = 1 / a + gaA
            gbD = LifetimeMath.digamma(b + x) - psiB + psiAB - psiABX1
            hAB = triAB - triABX1
            hbbA = LifetimeMath.trigamma(b + x + 1) - triB + triAB - triABX1
            hbbD = LifetimeMath.trigamma(b + x) - triB + triAB - triABX1
          }
          let ti = Int(rows.tIndex[row]), di = Int(rows.txIndex[row])
          let logAT = logTime[ti], logATx = logTime[di]
          let gap = rows.t[row] - rows.tx[row]
          let logGap = k > 1 && gap > 0 ? DayLogarithm.log(gap) : 0
          var top = -Double.infinity
          for c in 0..<k {
            comp[c] = c > 0 && gap <= 0 ? -.infinity : base[c] + Double(c) * logGap - shape[c] * logAT
            top = max(top, comp[c])
          }
          comp[k] = base[k] - shape[k] * logATx
          top = max(top, comp[k])
          var total = 0.0
          for c in 0...k {
            let d = comp[c] - top
            comp[c] = d == 0 ? 1 : Double.exp(d)
            total += comp[c]
          }
          let inverseTotal = 1 / total
          // Σ w_c ∇C_c and Σ w_c (∇²C_c + ∇C_c ∇C_cᵀ) over the (r, α') block,
          // plus the (r, α') × (a, b) cross sums split by alive/dropped.
          var gR = 0.0, gA = 0.0, mRR = 0.0, mRA = 0.0, mAA = 0.0
          var aliveR = 0.0, aliveA = 0.0, aliveWeight = 0.0
          for c in 0...k {
            let wc = comp[c] * inverseTotal
            if wc == 0 { continue }
            let (lt, it) = c < k ? (logAT, inverseTime[ti]) : (logATx, inverseTime[di])
            let dr = gr0[c] - lt
            let da = rOverAl - shape[c] * it
            gR += wc * dr
            gA += wc * da
            mRR += wc * (hrr[c] + dr * dr)
            mRA += wc * (inverseAl - it + dr * da)
            mAA += wc * (curvatureAl + shape[c] * it * it + da * da)
            if c < k { aliveR += wc * dr; aliveA += wc * da; aliveWeight += wc }
          }
          let wd = comp[k] * inverseTotal
          let dropR = gR - aliveR, dropA = gA - aliveA
          let gAa = aliveWeight * gaA + wd * gaD
          let gBb = aliveWeight * gbA + wd * gbD
          let mRa = aliveR * gaA + dropR * gaD, mRb = aliveR * gbA + dropR * gbD
          let mAa = aliveA * gaA + dropA * gaD, mAb = aliveA * gbA + dropA * gbD
          let maa = aliveWeight * (hAB + gaA * gaA) + wd * (hAB - inverseA2 + gaD * gaD)
          let mab = aliveWeight * (hAB + gaA * gbA) + wd * (hAB + gaD * gbD)
          let mbb = aliveWeight * (hbbA + gbA * gbA) + wd * (hbbD + gbD * gbD)
          value += w * (top + Double.log(total))
          g0 += w * gR
          g1 += w * gA
          g2 += w * gAa
          g3 += w * gBb
          h00 += w * (mRR - gR * gR)
          h01 += w * (mRA - gR * gA)
          h02 += w * (mRa - gR * gAa)
          h03 += w * (mRb - gR * gBb)
          h11 += w * (mAA - gA * gA)
          h12 += w * (mAa - gA * gAa)
          h13 += w * (mAb - gA * gBb)
          h22 += w * (maa - gAa * gAa)
          h23 += w * (mab - gAa * gBb)
          h33 += w * (mbb - gBb * gBb)
        }
        // In `hessianSlot(i, j, of: 4)` order: value, gradient, upper triangle by rows.
        for (j, v) in [value, g0, g1, g2, g3, h00, h01, h02, h03, h11, h12, h13, h22, h23, h33].enumerated() {
          acc[j] += v
        }
      }
    }
    return Evaluation(sums: sums, parameters: [r, al, a, b], totalWeight: rows.totalWeight)
  }

  /// The timing term (k−1) Σ ln τ − x log (k−1)! summed over customers.
  static func timingTerm(k: Int, logIntervalTotal: Double, repeatTotal: Double) -> Double {
    Double(k - 1) * logIntervalTotal - repeatTotal * LifetimeMath.logGamma(Double(k))
  }

  /// Fits MBG/CNBD-k for k = 1 … `maximumK` (stopping once the likelihood
  /// falls as k grows) and keeps the k with the highest likelihood. nil when the summary has no log-interval sums.
  ///
  /// - Complexity: O(K² · unique rows) per likelihood evaluation sweep.
  public static func fit(_ summary: LifetimeSummary, maximumK: Int = 4, maximumIterations: Int = 200)
    -> RegularTimingFit?
  {
    guard let li = summary.logIntervalSum, maximumK >= 1 else { return nil }
    return fit(
      CompressedRecency(summary), logIntervalTotal: li.reduce(0, +),
      repeatTotal: summary.frequency.reduce(0.0) { $0 + Double($1) },
      maximumK: maximumK, maximumIterations: maximumIterations)
  }

  static func fit(
    _ rows: CompressedRecency, logIntervalTotal: Double, repeatTotal: Double, maximumK: Int, maximumIterations: Int,
    warmStart: BGNBDParameters? = nil
  ) -> RegularTimingFit? {
    guard rows.count > 0 else { return nil }
    var meanT = 0.0
    for i in 0..<rows.count { meanT += rows.weight[i] * rows.t[i] }
    meanT = max(1e-3, meanT / rows.totalWeight)
    var byK = [Double?]()
    var best: (k: Int, result: NewtonMaximizer.Result, ll: Double, attempts: [String])?
    var allAttempts = [String]()
    // k = 1 starts from the BG/NBD optimum when given (MBG/NBD is close to it);
    // every larger k from the previous k's optimum (λ keeps its meaning).
    var previous: [Double]? = warmStart?.logValues
    for k in 1...maximumK {
      var starts: [(String, [Double])] = []
      if let previous { starts.append((k == 1 ? "BG/NBD optimum" : "k=\(k - 1) optimum", previous)) }
      starts.append(("unit", [0, 0, 0, 0]))
      starts.append(("alpha=mean T", [0, Double.log(meanT), 0, 0]))
      var chosen: NewtonMaximizer.Result?
      var attempts = [String]()
      for (name, start) in starts {
        guard
          let res = NewtonMaximizer.maximize(
            start: start, maximumIterations: maximumIterations,
            objective: {
              meanLogLikelihood($0, k: k, rows)
            })
        else { attempts.append("k=\(k) start \(name): likelihood not finite"); continue }
        attempts.append(
          "k=\(k) start \(name): \(res.converged ? "converged" : "not converged") after \(res.iterations) iterations")
        if NewtonMaximizer.isBetter(res, than: chosen) {
          chosen = res
        }
        if res.converged { break }
      }
      allAttempts += attempts
      guard let chosen, chosen.converged else { byK.append(nil); continue }
      previous = chosen.theta
      let ll =
        chosen.value * rows.totalWeight + timingTerm(k: k, logIntervalTotal: logIntervalTotal, repeatTotal: repeatTotal)
      byK.append(ll)
      if let incumbent = best, ll <= incumbent.ll {
        // The likelihood fell from k−1 to k: larger k are not tried (the
        // profile likelihood in k is unimodal in practice), saving the most
        // expensive fits.
        allAttempts.append("k=\(k) below k=\(incumbent.k); larger k not tried")
        break
      }
      best = (k, chosen, ll, attempts)
    }
    guard let best else {
      return RegularTimingFit(
        parameters: RegularTimingParameters(k: 1, r: 1, alpha: 1, a: 1, b: 1), standardErrors: nil,
        logLikelihood: -Double.greatestFiniteMagnitude, logLikelihoodByK: byK,
        diagnostics: FitDiagnostics(
          converged: false, iterations: 0, gradientMaxNorm: 0, attempts: allAttempts,
          message: "MBG/CNBD-k did not converge for any k in 1…\(maximumK)"))
    }
    let th = best.result.theta
    let hessian = best.result.hessian
    let params = RegularTimingParameters(
      k: best.k, r: Double.exp(th[0]), alpha: Double.exp(th[1]), a: Double.exp(th[2]), b: Double.exp(th[3]))
    let se = NewtonMaximizer.naturalScaleStandardErrors(theta: th, meanHessian: hessian, totalWeight: rows.totalWeight)
    return RegularTimingFit(
      parameters: params,
      standardErrors: se.map { RegularTimingParameters(k: best.k, r: $0[0], alpha: $0[1], a: $0[2], b: $0[3]) },
      logLikelihood: best.ll, logLikelihoodByK: byK,
      diagnostics: FitDiagnostics(
        converged: true, iterations: best.result.iterations,
        gradientMaxNorm: best.result.gradient.map(abs).max() ?? 0, attempts: allAttempts,
        message: se == nil ? "information matrix not positive definite; standard errors omitted" : nil))
  }

  /// Posterior pieces for one customer: P(alive) and the alive-mixture
  /// weights over i (stages of the current gap completed since t_x).
  static func posterior(_ p: RegularTimingParameters, x: Double, tx: Double, t: Double) -> (
    alive: Double, weights: [Double]
  ) {
    var scratch = [Double](repeating: 0, count: p.k + 1)
    var weights = [Double](repeating: 0, count: p.k)
    let alive = posterior(p, x: x, tx: tx, t: t, scratch: &scratch, weights: &weights)
    return (alive, weights)
  }

  /// `posterior` into caller-owned buffers (k + 1 and k entries), so scoring
  /// millions of rows allocates nothing per row; returns P(alive).
  static func posterior(
    _ p: RegularTimingParameters, x: Double, tx: Double, t: Double, scratch comp: inout [Double],
    weights: inout [Double]
  ) -> Double {
    var terms = ComponentTerms(p)
    return terms.posterior(
      x: x, tx: tx, t: t, logAT: Double.log(terms.alphaStage + t), logATx: Double.log(terms.alphaStage + tx),
      scratch: &comp, weights: &weights)
  }

  /// P(alive at T) = Σᵢ e^Aᵢ / (Σᵢ e^Aᵢ + e^D).
  public static func probabilityAlive(_ p: RegularTimingParameters, x: Double, tx: Double, t: Double) -> Double {
    posterior(p, x: x, tx: tx, t: t).alive
  }

  /// Expected purchases in (T, T+h].
  ///
  /// Given alive with i stages of the current gap done (posterior weight wᵢ),
  /// the stage rate kλ ~ Gamma(sᵢ, β), β = α'+T, so the number M of Erlang
  /// stages in h is negative binomial NB(sᵢ, π), π = β/(β+h); purchase n
  /// happens once M ≥ nk − i, and the customer is still buying at purchase n
  /// with probability E[(1−p)ⁿ⁻¹], p | alive ~ Beta(a, b+x+1):
  ///
  /// ```
  /// E = P(alive) · Σᵢ wᵢ Eᵢ,   Eᵢ = Σ_{n≥1} P(Mᵢ ≥ nk − i) · B(a, b+x+n) / B(a, b+x+1)
  /// ```
  /// Eᵢ depends on x and T but not on t_x, which only moves the weights; the
  /// scoring stage uses that to evaluate Eᵢ once per (x, T). See
  /// `expectedPurchasesIfAlive(_:stage:x:t:horizon:)` for how Eᵢ is computed.
  public static func expectedPurchases(
    _ p: RegularTimingParameters, x: Double, tx: Double, t: Double, horizon h: Double
  ) -> Double {
    let post = posterior(p, x: x, tx: tx, t: t)
    return post.alive * expectedPurchasesIfAlive(p, weights: post.weights, x: x, t: t, horizon: h)
  }

  /// Σᵢ wᵢ Eᵢ: expected purchases in h of an alive customer whose current
  /// gap has i stages done with probability wᵢ.
  static func expectedPurchasesIfAlive(
    _ p: RegularTimingParameters, weights: [Double], x: Double, t: Double, horizon h: Double
  ) -> Double {
    var e = 0.0
    for (i, w) in weights.enumerated() where w > 0 {
      e += w * expectedPurchasesIfAlive(p, stage: i, x: x, t: t, horizon: h)
    }
    return e
  }

  /// Eᵢ, exact: summed with multiplicative recurrences for the NB pmf and the
  /// Beta ratio until a geometric bound on the NB tail is below 1e-16. For
  /// k = 1 the closed form (the BG/NBD ₂F₁ expression with b → b+1) is used.
  /// When π^sᵢ underflows (very many past purchases and a long horizon) it
  /// falls back to an approximation: a Poisson process with the same mean
  /// rate (Gamma shape sᵢ).
  static func expectedPurchasesIfAlive(
    _ p: RegularTimingParameters, stage i: Int, x: Double, t: Double, horizon h: Double
  ) -> Double {
    if h <= 0 { return 0 }
    if p.k > 1, let exact = stageSeries(p, stage: i, x: x, t: t, horizon: h) { return exact }
    return poissonIfAlive(p, shape: p.r + Double(p.k) * x + Double(i), x: x, t: t, horizon: h)
  }

  /// The exact negative-binomial series for Eᵢ; nil when π^sᵢ underflows or
  /// the series needs more than 10⁷ terms.
  static func stageSeries(_ p: RegularTimingParameters, stage i: Int, x: Double, t: Double, horizon h: Double)
    -> Double?
  {
    let k = p.k
    let beta = p.alpha / Double(k) + t
    let logPi = -Double.log(onePlus: h / beta)
    let q = h / (beta + h)  // 1 − π
    let b0 = p.b + x + 1
    let s = p.r + Double(k) * x + Double(i)
    let logP0 = s * logPi
    guard logP0 > -700 else { return nil }
    let meanStages = s * h / beta
    var pmf = Double.exp(logP0)  // P(M = 0)
    var cdf = pmf  // P(M ≤ m)
    var m = 0
    var c = 1.0  // E[(1−p)^(n−1)]
    var e = 0.0
    var n = 1
    while true {
      let threshold = n * k - i  // purchase n needs M ≥ threshold
      while m < threshold - 1 {
        pmf *= (s + Double(m)) / Double(m + 1) * q
        m += 1
        cdf += pmf
      }
      let survival = max(0, 1 - cdf)
      e += survival * c
      // Past the mode the pmf ratio ρ = (s+m)/(m+1)·(1−π) is below one and
      // falling, so the remaining tail is at most pmf·ρ/(1−ρ); stop when
      // that is below 1e-16 (1 − cdf itself bottoms out at rounding level).
      let ratio = (s + Double(m)) / Double(m + 1) * q
      if Double(threshold) > meanStages && ratio < 1 && pmf * ratio / (1 - ratio) < 1e-16 { break }
      if survival == 0 { break }
      c *= (b0 + Double(n - 1)) / (p.a + b0 + Double(n - 1))
      n += 1
      if m > 10_000_000 { return nil }
    }
    return e
  }

  /// Poisson-timing expectation at Gamma shape `s` for the stage rate: exact
  /// for k = 1 (MBG/NBD), the fallback approximation for k > 1.
  static func poissonIfAlive(_ p: RegularTimingParameters, shape s: Double, x: Double, t: Double, horizon h: Double)
    -> Double
  {
    let k = Double(p.k)
    // Transaction rate λ = stage rate / k ~ Gamma(s, k(α'+T)); reuse the
    // BG/NBD expression with shape r' + x = s, rate α'' + T = k(α'+T) and
    // dropout Beta(a, (b+1) + x).
    let q = BGNBDParameters(r: s - x, alpha: k * (p.alpha / k + t) - t, a: p.a, b: p.b + 1)
    return BGNBD.expectedPurchasesIfAlive(q, x: x, t: t, horizon: h)
  }

  /// P(no purchase in (T, T+h]), exact: given alive and i stages done, the
  /// next purchase needs k−i more Erlang stages, so with stage rate
  /// ~ Gamma(sᵢ, β), β = α'+T, π = β/(β+h):
  ///
  /// ```
  /// P(none | alive, i) = Σ_{j<k−i} Γ(sᵢ+j)/(Γ(sᵢ) j!) πˢⁱ (1−π)ʲ     (negative binomial CDF)
  /// P(none) = 1 − P(alive) · Σᵢ wᵢ (1 − P(none | alive, i))
  /// ```
  static func probabilityNoPurchase(_ p: RegularTimingParameters, x: Double, tx: Double, t: Double, horizon h: Double)
    -> Double
  {
    let post = posterior(p, x: x, tx: tx, t: t)
    var buy = 0.0
    for (i, w) in post.weights.enumerated() where w > 0 {
      buy += w * probabilityPurchaseIfAlive(p, stage: i, x: x, t: t, horizon: h)
    }
    return 1 - post.alive * buy
  }

  /// 1 − P(none | alive, i) from the formula above (depends on x and T only).
  static func probabilityPurchaseIfAlive(
    _ p: RegularTimingParameters, stage i: Int, x: Double, t: Double, horizon h: Double
  ) -> Double {
    let k = p.k
    let beta = p.alpha / Double(k) + t
    let logPi = -Double.log(onePlus: h / beta)
    let logOneMinusPi = Double.log(h) - Double.log(beta + h)
    let s = p.r + Double(k) * x + Double(i)
    var cdf = 0.0
    for j in 0..<(k - i) {
      let jd = Double(j)
      let logTerm =
        LifetimeMath.logGamma(s + jd) - LifetimeMath.logGamma(s) - LifetimeMath.logGamma(jd + 1)
        + s * logPi + (j > 0 ? jd * logOneMinusPi : 0)
      cdf += Double.exp(logTerm)
    }
    return 1 - min(1, cdf)
  }
}
