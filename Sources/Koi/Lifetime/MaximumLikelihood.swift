import RealModule

/// Convergence diagnostics of one maximum-likelihood fit, written to
/// model.json.
public struct FitDiagnostics: Sendable, Codable, Equatable {
  /// Whether the gradient test passed at the returned point.
  public var converged: Bool
  /// Newton iterations of the successful (or last) attempt.
  public var iterations: Int
  /// Max-norm of the gradient of the mean log-likelihood w.r.t. the
  /// log-parameters at the returned point.
  public var gradientMaxNorm: Double
  /// What was tried, in order (starting points and their outcome).
  public var attempts: [String]
  /// A sentence for the operator when something went wrong, else nil.
  public var message: String?

  enum CodingKeys: String, CodingKey {
    case converged, iterations
    case gradientMaxNorm = "gradient_max_norm"
    case attempts, message
  }
}

/// Damped Newton ascent on a smooth log-likelihood of unconstrained
/// (log-scale) parameters.
///
/// ```
/// maximise ℓ(θ)/W  (W = total weight, so tolerances do not scale with n)
/// step:  (−H + μ·I) d = g      (LAPACK dposv, Cholesky)
/// H      differences of the analytic gradient, symmetrised (see numericHessian)
/// μ      0 while −H is positive definite and the step increases ℓ;
///        otherwise raised ×10 (Levenberg–Marquardt damping); lowered ×10 on success
/// stop   ‖g‖∞ < 1e-9 (converged); steps below 1e-14 with ‖g‖∞ < 1e-6
///        (converged at the limit of double precision); otherwise
///        μ > 1e12 or the iteration limit (not converged)
/// ```
/// Steps are capped at 3 in max-norm so exp(θ) cannot overflow in one jump.
enum NewtonMaximizer {
  struct Result {
    var theta: [Double]
    var value: Double
    var gradient: [Double]
    /// Hessian of the mean log-likelihood at `theta`.
    var hessian: Matrix
    var iterations: Int
    var converged: Bool
  }

  /// Whether `candidate` should replace `incumbent` among multi-start
  /// results: converged beats not converged, then the higher likelihood.
  static func isBetter(_ candidate: Result, than incumbent: Result?) -> Bool {
    guard let incumbent else { return true }
    if candidate.converged != incumbent.converged { return candidate.converged }
    return candidate.value > incumbent.value
  }

  /// `objective(θ)` returns the mean log-likelihood and its gradient, or nil
  /// when θ is outside the region where it is finite.
  /// With `centralHessianAtEnd` false the returned Hessian may be the last
  /// forward-difference one (callers that need SEs recompute it).
  static func maximize(
    start: [Double], maximumIterations: Int, centralHessianAtEnd: Bool = true,
    objective: ([Double]) -> (value: Double, gradient: [Double])?
  ) -> Result? {
    let n = start.count
    guard var current = objective(start), current.value.isFinite else { return nil }
    var theta = start
    var mu = 0.0
    var iterations = 0
    var hessian = numericHessian(theta, objective: objective) ?? Matrix.identity(n)
    var hessianFresh = true
    func gradientNorm(_ g: [Double]) -> Double { g.map(abs).max() ?? 0 }
    while iterations < maximumIterations {
      if gradientNorm(current.gradient) < 1e-9 {
        // Central differences for the standard errors.
        let final = centralHessianAtEnd ? numericHessian(theta, objective: objective) ?? hessian : hessian
        return Result(theta: theta, value: current.value, gradient: current.gradient,
                      hessian: final, iterations: iterations, converged: true)
      }
      iterations += 1
      if !hessianFresh {
        guard let h = numericHessian(theta, gradient: current.gradient, objective: objective) else { break }
        hessian = h
        hessianFresh = true
      }
      var accepted = false
      while mu <= 1e12 {
        var a = Matrix(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n { a[i, j] = -hessian[i, j] } }
        let scale = max(1e-8, (0..<n).map { abs(hessian[$0, $0]) }.max() ?? 1)
        for i in 0..<n { a[i, i] += mu * scale }
        guard var d = try? LinearAlgebra.solveSymmetricPositiveDefinite(a, current.gradient) else {
          mu = mu == 0 ? 1e-6 : mu * 10
          continue
        }
        let dMax = gradientNorm(d)
        if dMax > 3 { d = d.map { $0 * 3 / dMax } }
        let candidate = zip(theta, d).map { $0 + $1 }
        if let next = objective(candidate), next.value.isFinite,
          next.value >= current.value - 1e-15 * abs(current.value)
        {
          let stalled = dMax < 1e-14
          theta = candidate
          current = next
          mu = mu < 1e-6 ? 0 : mu / 10
          accepted = true
          hessianFresh = false
          if stalled {
            return Result(theta: theta, value: current.value, gradient: current.gradient,
                          hessian: numericHessian(theta, objective: objective) ?? hessian,
                          iterations: iterations, converged: gradientNorm(current.gradient) < 1e-6)
          }
          break
        }
        mu = mu == 0 ? 1e-6 : mu * 10
      }
      if !accepted { break }
    }
    if let h = numericHessian(theta, objective: objective) { hessian = h }
    return Result(theta: theta, value: current.value, gradient: current.gradient, hessian: hessian,
                  iterations: iterations, converged: gradientNorm(current.gradient) < 1e-9)
  }

  /// Hessian by differences of the analytic gradient: central (h = 1e-5,
  /// 2n gradients) for standard errors and the first step; forward from the
  /// known `gradient` (h = 1e-6, n gradients, error O(h)) inside the Newton
  /// loop, where it only steers the step.
  static func numericHessian(
    _ theta: [Double], gradient: [Double]? = nil, objective: ([Double]) -> (value: Double, gradient: [Double])?
  ) -> Matrix? {
    let n = theta.count
    var m = Matrix(rows: n, columns: n)
    for j in 0..<n {
      if let g0 = gradient {
        let h = 1e-6
        var plus = theta
        plus[j] += h
        guard let gp = objective(plus)?.gradient else { return nil }
        for i in 0..<n { m[i, j] = (gp[i] - g0[i]) / h }
      } else {
        let h = 1e-5
        var plus = theta, minus = theta
        plus[j] += h
        minus[j] -= h
        guard let gp = objective(plus)?.gradient, let gm = objective(minus)?.gradient else { return nil }
        for i in 0..<n { m[i, j] = (gp[i] - gm[i]) / (2 * h) }
      }
    }
    for i in 0..<n { for j in (i + 1)..<n {
      let s = 0.5 * (m[i, j] + m[j, i])
      m[i, j] = s; m[j, i] = s
    } }
    guard m.values.allSatisfy({ $0.isFinite }) else { return nil }
    return m
  }

  /// Standard errors on the natural scale from the observed information of
  /// the *total* log-likelihood, by the delta method on θ = log(parameter):
  ///
  /// ```
  /// Cov(θ̂) = (−W · H_mean)⁻¹,   se(e^θ̂ᵢ) = e^θ̂ᵢ · sqrt(Cov(θ̂)ᵢᵢ)
  /// ```
  /// nil when the information matrix is not positive definite.
  static func naturalScaleStandardErrors(theta: [Double], meanHessian: Matrix, totalWeight: Double) -> [Double]? {
    let n = theta.count
    var info = Matrix(rows: n, columns: n)
    for i in 0..<n { for j in 0..<n { info[i, j] = -meanHessian[i, j] * totalWeight } }
    guard let cov = try? LinearAlgebra.inverseSymmetricPositiveDefinite(info) else { return nil }
    var se = [Double]()
    for i in 0..<n {
      let v = cov[i, i]
      guard v > 0, v.isFinite else { return nil }
      se.append(Double.exp(theta[i]) * v.squareRoot())
    }
    return se
  }
}
