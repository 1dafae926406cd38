import RealModule

/// Convergence diagnostics of one maximum-likelihood fit, written to
/// model.json.
public struct FitDiagnostics: Sendable, Codable, Equatable {
  /// Whether the gradient test passed at the returned point.
  var converged: Bool
  /// Newton iterations of the successful (or last) attempt.
  public var iterations: Int
  /// Max-norm of the gradient of the mean log-likelihood w.r.t. the
  /// log-parameters at the returned point.
  var gradientMaxNorm: Double
  /// What was tried, in order (starting points and their outcome).
  var attempts: [String]
  /// A sentence for the operator when something went wrong, else nil.
  public var message: String?
}

/// Value, gradient and Hessian of a mean log-likelihood at one point of the
/// log-parameters θ: what the lifetime models hand `NewtonOptimizer`.
typealias Evaluation = NewtonOptimizer.Evaluation

extension NewtonOptimizer.Evaluation {
  /// Converts sums over the data of ℓ and its derivatives with respect to
  /// the natural parameters p = e^θ into the mean and its log-scale
  /// derivatives:
  ///
  /// ```
  /// ∂ℓ/∂θᵢ = pᵢ ∂ℓ/∂pᵢ,    ∂²ℓ/∂θᵢ∂θⱼ = pᵢ pⱼ ∂²ℓ/∂pᵢ∂pⱼ + 𝟙[i=j] pᵢ ∂ℓ/∂pᵢ
  /// ```
  /// `sums` is [ℓ, ∂ℓ/∂p (n), upper triangle of ∂²ℓ/∂p² row by row
  /// (n(n+1)/2), indexed by `hessianSlot`]. nil when anything is
  /// not finite.
  init?(sums: [Double], parameters p: [Double], totalWeight: Double) {
    let n = p.count
    var gradient = [Double](repeating: 0, count: n)
    var hessian = Matrix(rows: n, columns: n)
    var k = 1 + n
    for i in 0..<n {
      gradient[i] = p[i] * sums[1 + i] / totalWeight
      for j in i..<n {
        let h = p[i] * p[j] * sums[k] / totalWeight + (i == j ? gradient[i] : 0)
        hessian[i, j] = h
        hessian[j, i] = h
        k += 1
      }
    }
    let value = sums[0] / totalWeight
    guard value.isFinite, gradient.allSatisfy({ $0.isFinite }), hessian.values.allSatisfy({ $0.isFinite }) else {
      return nil
    }
    self.init(value: value, gradient: gradient, hessian: hessian)
  }
}

/// Index of ∂²/∂pᵢ∂pⱼ (i ≤ j) in the packed derivative sums of an
/// n-parameter model: after the value and the n gradient entries.
@inline(__always)
func hessianSlot(_ i: Int, _ j: Int, of n: Int) -> Int {
  1 + n + i * n - i * (i - 1) / 2 + (j - i)
}

/// Damped Newton ascent on a smooth log-likelihood of unconstrained
/// (log-scale) parameters, with the model's analytic Hessian:
/// `NewtonOptimizer` with Levenberg–Marquardt damping.
///
/// ```
/// maximise ℓ(θ)/W  (W = total weight, so tolerances do not scale with n)
/// step:  (−H + μ·s·I) d = g    (LAPACK dposv, Cholesky; s = max(1e-8, maxᵢ |Hᵢᵢ|))
/// μ      0 while −H is positive definite and the step increases ℓ;
///        otherwise raised ×10 (Levenberg–Marquardt damping); lowered ×10 on success
/// stop   ‖g‖∞ < 1e-9 (converged), then up to 3 full Newton steps while
///        each divides ‖g‖∞ by 10 (`polishSteps`: CPUs then agree far
///        more closely); steps below 1e-14 with ‖g‖∞ < 1e-6
///        (converged at the limit of double precision); otherwise
///        μ > 1e12 or the iteration limit (not converged)
/// ```
/// Steps are capped at 3 in max-norm so exp(θ) cannot overflow in one jump.
/// One likelihood evaluation per accepted step.
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

  static func options(maximumIterations: Int) -> NewtonOptimizer.Options {
    NewtonOptimizer.Options(
      stepControl: .damping(maximumStep: 3), maximumIterations: maximumIterations, acceptance: 1e-15,
      gradientTolerance: 1e-9, stall: (step: 1e-14, gradient: 1e-6), polishSteps: 3)
  }

  /// Whether `candidate` should replace `incumbent` among multi-start
  /// results: converged beats not converged, then the higher likelihood.
  static func isBetter(_ candidate: Result, than incumbent: Result?) -> Bool {
    guard let incumbent else { return true }
    if candidate.converged != incumbent.converged { return candidate.converged }
    return candidate.value > incumbent.value
  }

  /// `objective(θ)` returns the mean log-likelihood with its gradient and
  /// Hessian, or nil when θ is outside the region where they are finite
  /// (then, at `start`, the result is nil).
  static func maximize(start: [Double], maximumIterations: Int, objective: ([Double]) -> Evaluation?) -> Result? {
    guard let initial = objective(start) else { return nil }
    let r = NewtonOptimizer.maximize(
      start: start, at: initial, options: options(maximumIterations: maximumIterations)
    ) { theta, _ in objective(theta) }
    return Result(
      theta: r.theta, value: r.evaluation.value, gradient: r.evaluation.gradient,
      hessian: r.evaluation.hessian, iterations: r.iterations, converged: r.converged)
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
