import RealModule

/// Special functions for the lifetime models: digamma, log-sum-exp, the
/// Gaussian hypergeometric series and a tanh-sinh quadrature for Beta
/// expectations. Internal: callers see only the model APIs.
enum LifetimeMath {
  /// ψ(x) = d/dx log Γ(x) for x > 0.
  ///
  /// ```
  /// ψ(x) = ψ(x + n) − Σ_{j<n} 1/(x + j)                (recurrence to x ≥ 6)
  /// ψ(y) ≈ ln y − 1/(2y) − 1/(12y²) + 1/(120y⁴) − 1/(252y⁶) + 1/(240y⁸) − 1/(132y¹⁰)
  /// ```
  /// Absolute error below 1e-13 for x > 0.
  static func digamma(_ x: Double) -> Double {
    precondition(x > 0, "digamma is only used for positive arguments")
    var y = x
    var acc = 0.0
    while y < 6 {
      acc -= 1 / y
      y += 1
    }
    let f = 1 / (y * y)
    let series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))))
    return acc + Double.log(y) - 0.5 / y - series
  }

  /// ψ₁(x) = d²/dx² log Γ(x) for x > 0.
  ///
  /// ```
  /// ψ₁(x) = ψ₁(x + n) + Σ_{j<n} 1/(x + j)²             (recurrence to x ≥ 10)
  /// ψ₁(y) ≈ 1/y + 1/(2y²) + Σ_{k=1..7} B₂ₖ / y^(2k+1)
  ///       = 1/y + 1/(2y²) + 1/(6y³) − 1/(30y⁵) + 1/(42y⁷) − 1/(30y⁹) + 5/(66y¹¹) − 691/(2730y¹³) + 7/(6y¹⁵)
  /// ```
  /// Relative error below 1e-14 for x > 0 (the next term is below 1e-17 at y = 10).
  static func trigamma(_ x: Double) -> Double {
    precondition(x > 0, "trigamma is only used for positive arguments")
    var y = x
    var acc = 0.0
    while y < 10 {
      acc += 1 / (y * y)
      y += 1
    }
    let iy = 1 / y, f = iy * iy
    let tail = f * (1.0 / 30 - f * (1.0 / 42 - f * (1.0 / 30 - f * (5.0 / 66 - f * (691.0 / 2730 - f * 7 / 6)))))
    return acc + iy * (1 + iy * (0.5 + iy * (1.0 / 6 - tail)))
  }

  @inline(__always)
  static func logGamma(_ x: Double) -> Double { Double.logGamma(x) }

  /// log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b).
  @inline(__always)
  static func logBeta(_ a: Double, _ b: Double) -> Double {
    Double.logGamma(a) + Double.logGamma(b) - Double.logGamma(a + b)
  }

  /// log(eᵘ + eᵛ) without overflow.
  @inline(__always)
  static func logAddExp(_ u: Double, _ v: Double) -> Double {
    if u == -.infinity { return v }
    if v == -.infinity { return u }
    return u > v ? u + Double.log(onePlus: Double.exp(v - u)) : v + Double.log(onePlus: Double.exp(u - v))
  }

  /// The Gaussian hypergeometric series
  ///
  /// ```
  /// ₂F₁(a, b; c; z) = Σ_{n≥0} (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ,      0 ≤ z < 1, c > 0
  /// ```
  /// summed until two consecutive terms are below 1e-16 of the partial sum
  /// after the terms have started to shrink. Returns nil when `c ≤ 0`, `z` is
  /// outside [0, 1), `maximumTerms` terms did not converge, or cancellation
  /// (a term more than 1e6 times the sum) makes the result unreliable;
  /// callers then fall back to quadrature.
  static func hypergeometric2F1(
    _ a: Double, _ b: Double, _ c: Double, _ z: Double, maximumTerms: Int = 100_000
  ) -> Double? {
    guard c > 0, z >= 0, z < 1, a.isFinite, b.isFinite, c.isFinite else { return nil }
    if z == 0 { return 1 }
    var sum = 1.0
    var term = 1.0
    var small = 0
    var n = 0.0
    var largest = 1.0
    for _ in 0..<maximumTerms {
      term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
      sum += term
      largest = max(largest, abs(term))
      n += 1
      if term == 0 { return sum }
      // Past the hump the ratio is below one; require two tiny terms in a row.
      if abs(term) <= 1e-16 * abs(sum) {
        small += 1
        if small >= 2 && n > abs(a) + abs(b) {
          // Alternating terms far larger than the sum lose the digits we need.
          return sum.isFinite && largest <= 1e6 * abs(sum) ? sum : nil
        }
      } else {
        small = 0
      }
      if !sum.isFinite { return nil }
    }
    return nil
  }

  /// `E[g(P)]` for `P ~ Beta(a, b)` by tanh-sinh (double-exponential)
  /// quadrature on (0, 1), which copes with the endpoint singularities of the
  /// Beta density when a < 1 or b < 1:
  ///
  /// ```
  /// p(τ) = 1 / (1 + e^(−π sinh τ)),  w(τ) = dp/dτ = π cosh τ · p(τ) (1 − p(τ))
  /// E[g(P)] ≈ h Σ_{|τ|≤6, τ = jh} w(τ) · p^(a−1) (1−p)^(b−1) / B(a, b) · g(p)
  /// ```
  /// with h = 1/32 (385 nodes). `g` receives `p` and `1 − p` computed
  /// separately, so neither loses precision at its endpoint.
  static func betaExpectation(a: Double, b: Double, _ g: (_ p: Double, _ q: Double) -> Double) -> Double {
    let h = 1.0 / 32
    let logB = logBeta(a, b)
    var sum = 0.0
    for j in -192...192 {
      let tau = Double(j) * h
      let u = Double.pi * Double.sinh(tau)
      // p = 1/(1+e^(−u)), q = 1 − p = 1/(1+e^(u)), computed without cancellation.
      let logP = -Double.log(onePlus: Double.exp(-u))
      let logQ = -Double.log(onePlus: Double.exp(u))
      let p = Double.exp(logP), q = Double.exp(logQ)
      if p == 0 || q == 0 { continue }
      let logWeight = Double.log(Double.pi * Double.cosh(tau)) + logP + logQ
      let logDensity = (a - 1) * logP + (b - 1) * logQ - logB
      let w = Double.exp(logWeight + logDensity)
      if w == 0 || !w.isFinite { continue }
      sum += w * g(p, q)
    }
    return sum * h
  }
}

extension LifetimeMath {
  /// Σ over `0..<count` of a vector-valued `body`, computed in fixed chunks
  /// (`Parallel.chunkCount`) and combined in chunk order, so the result is
  /// bit-identical whatever the number of threads. `body(range, &partial)`
  /// adds its chunk's contribution into `partial` (length `width`).
  static func chunkedSum(count: Int, width: Int, minimumChunk: Int = 4096, _ body: (Range<Int>, inout [Double]) -> Void)
    -> [Double]
  {
    let chunks = Parallel.chunkCount(for: count, minimumChunk: minimumChunk)
    var partials = [Double](repeating: 0, count: chunks * width)
    partials.withUnsafeMutableBufferPointer { buffer in
      Parallel.forEachChunk(count: count, chunkCount: chunks) { c, range in
        var local = [Double](repeating: 0, count: width)
        body(range, &local)
        for j in 0..<width { buffer[c * width + j] = local[j] }
      }
    }
    var total = [Double](repeating: 0, count: width)
    for c in 0..<chunks { for j in 0..<width { total[j] += partials[c * width + j] } }
    return total
  }
}
