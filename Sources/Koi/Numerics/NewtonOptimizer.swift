/// Newton's method with an analytic Hessian, for the maximum-likelihood fits
/// (the lifetime models' log-parameters, the censored interval regressions):
/// one loop, with the two step controls those fits need.
///
/// ```
/// maximise f(θ)                      (minimise: maximise −f)
/// step    (−H + λI) d = g             g = ∇f(θ), H = ∇²f(θ); Cholesky (LAPACK dposv)
/// accept  θ' = P(θ + t·d)  when  f(θ') is finite and f(θ') ≥ f(θ) − ε·|f(θ)|
///         (P: the caller's projection onto the feasible box, identity by default)
/// ```
/// Step controls:
/// - `.damping` (Levenberg–Marquardt): λ = μ·max(1e-8, maxᵢ |Hᵢᵢ|) with μ
///   carried from step to step; t = 1, d capped at `maximumStep` in max-norm.
///   μ is 0 while −H is positive definite and the steps are accepted; a
///   failed Cholesky or a rejected step raises it (0 → 1e-6, then ×10) and
///   solves again; an accepted step lowers it ÷10 (to 0 below 1e-6). No
///   ascent: μ > 1e12.
/// - `.halving` (backtracking line search): λ = 0 unless −H is not positive
///   definite, then 1e-8·max(1, maxᵢ |Hᵢᵢ|), ×10, up to 12 solves (no
///   direction: none gave a finite d); t = 1, ½, ¼, … up to `maximumHalvings`
///   times (no ascent: none accepted). A trial at t < 1 is evaluated without
///   derivatives, and the accepted point again with them.
///
/// Convergence (`Options`): ‖g‖∞ below `gradientTolerance` before a step;
/// after an accepted step, maxᵢ |θ'ᵢ − θᵢ| below `parameterTolerance` or
/// |f(θ') − f(θ)| below `valueTolerance`·max(1, |f(θ)|); a step whose
/// max-norm ‖d‖∞ is below `stall.step` ends the search, converged when
/// ‖g‖∞ < `stall.gradient` (the limit of double precision). With no ascent
/// the search ends converged when `noAscentIsConvergence` (at the optimum to
/// rounding); otherwise, and at the iteration cap or with no direction, it
/// is converged when ‖g‖∞ is below `gradientTolerance` (never without one).
///
/// - Complexity: O(p³) per solve for p parameters, plus the evaluations:
///   one per accepted damped step; with halving one per trial and one more
///   when t < 1.
enum NewtonOptimizer {
  /// f, its gradient and its Hessian at one point.
  struct Evaluation {
    var value: Double
    var gradient: [Double]
    var hessian: Matrix
  }

  enum StepControl: Sendable {
    case damping(maximumStep: Double)
    case halving(maximumHalvings: Int)
  }

  public struct Options: Sendable {
    var stepControl: StepControl
    var maximumIterations: Int
    /// ε of the acceptance test: the relative decrease of f tolerated.
    var acceptance: Double
    var gradientTolerance: Double? = nil
    var parameterTolerance: Double? = nil
    var valueTolerance: Double? = nil
    var stall: (step: Double, gradient: Double)? = nil
    var noAscentIsConvergence = false
    /// Full Newton steps taken after ‖g‖∞ fell below `gradientTolerance`,
    /// each kept only when it divides ‖g‖∞ by 10 or more (so the last ends
    /// where rounding stops the progress). A tolerance met by 1e-9 on a
    /// flat likelihood leaves a parameter up to ‖g‖∞ / (its curvature)
    /// from the optimum: how far depends on the path, whose accept and
    /// damping decisions near the optimum turn on the last bits of libm
    /// and BLAS, so the parameters differed by 4e-8 (BG/NBD's a and b on
    /// the sample) between CPUs. Polished, they were 1e-11 apart.
    /// `Result.iterations` does not count these steps: it stays the steps
    /// to the tolerance, which the run's notes report.
    var polishSteps = 0
  }

  struct Result {
    var theta: [Double]
    /// f, gradient and Hessian at `theta` (of f as given: for `minimize`,
    /// of the function minimised).
    var evaluation: Evaluation
    /// Steps taken (or attempted, when the last one found no ascent).
    var iterations: Int
    var converged: Bool
  }

  /// Maximises f from `start`, where `initial` is f evaluated there.
  /// `objective(θ, derivatives)` returns f at θ, with gradient and Hessian
  /// when `derivatives` (else they may be empty), or nil where f is not
  /// defined.
  static func maximize(
    start: [Double], at initial: Evaluation, options: Options,
    project: ([Double]) -> [Double] = { $0 },
    objective: (_ theta: [Double], _ derivatives: Bool) -> Evaluation?
  ) -> Result {
    var theta = start
    var current = initial
    var iterations = 0
    var mu = 0.0  // damping: carried from step to step
    func gradientNorm(_ e: Evaluation) -> Double { maxNorm(e.gradient) }
    func finish(converged: Bool) -> Result {
      Result(theta: theta, evaluation: current, iterations: iterations, converged: converged)
    }
    func gradientTestPasses() -> Bool {
      guard let tolerance = options.gradientTolerance else { return false }
      return gradientNorm(current) < tolerance
    }
    func accepts(_ next: Evaluation?) -> Bool {
      guard let next else { return false }
      return next.value.isFinite && next.value >= current.value - options.acceptance * abs(current.value)
    }
    // The steps of `polishSteps` (see there), from a converged point.
    func polished() -> Result {
      for _ in 0..<options.polishSteps {
        guard let d = solve(current, ridge: 0, requireFinite: true) else { break }
        let candidate = project(zip(theta, d).map { $0 + $1 })
        guard let next = objective(candidate, true), next.value.isFinite,
          gradientNorm(next) * 10 <= gradientNorm(current)
        else { break }
        theta = candidate
        current = next
      }
      return finish(converged: true)
    }
    while iterations < options.maximumIterations {
      if let tolerance = options.gradientTolerance, gradientNorm(current) < tolerance { return polished() }
      iterations += 1
      let n = theta.count
      let diagonalScale = (0..<n).map { abs(current.hessian[$0, $0]) }.max()
      var accepted: (theta: [Double], evaluation: Evaluation, stepNorm: Double)?
      switch options.stepControl {
      case .damping(let maximumStep):
        let scale = max(1e-8, diagonalScale ?? 1)
        while mu <= 1e12 {
          guard var d = solve(current, ridge: mu * scale, requireFinite: false) else {
            mu = mu == 0 ? 1e-6 : mu * 10
            continue
          }
          let dMax = maxNorm(d)
          if dMax > maximumStep { d = d.map { $0 * maximumStep / dMax } }
          let candidate = project(zip(theta, d).map { $0 + $1 })
          let next = objective(candidate, true)
          if accepts(next), let next {
            mu = mu < 1e-6 ? 0 : mu / 10
            accepted = (candidate, next, dMax)
            break
          }
          mu = mu == 0 ? 1e-6 : mu * 10
        }
      case .halving(let maximumHalvings):
        var direction: [Double]?
        var ridge = 0.0
        for _ in 0..<12 {
          if let d = solve(current, ridge: ridge, requireFinite: true) {
            direction = d
            break
          }
          ridge = ridge == 0 ? 1e-8 * max(1, diagonalScale ?? 1) : ridge * 10
        }
        guard let direction else { return finish(converged: gradientTestPasses()) }
        var t = 1.0
        for _ in 0..<maximumHalvings {
          let candidate = project(zip(theta, direction).map { $0 + t * $1 })
          // Full step is the usual case: evaluate derivatives with it so an
          // accepted trial is the next iterate's evaluation.
          let trial = objective(candidate, t == 1)
          if accepts(trial), let trial {
            let next = t == 1 ? trial : objective(candidate, true)
            guard let next else { return finish(converged: gradientTestPasses()) }
            accepted = (candidate, next, t * maxNorm(direction))
            break
          }
          t *= 0.5
        }
      }
      guard let step = accepted else {
        // No ascent possible.
        return finish(converged: options.noAscentIsConvergence || gradientTestPasses())
      }
      let change = zip(step.theta, theta).map { abs($0 - $1) }.max() ?? 0
      let previous = current.value
      theta = step.theta
      current = step.evaluation
      if let stall = options.stall, step.stepNorm < stall.step {
        return finish(converged: gradientNorm(current) < stall.gradient)
      }
      if let tolerance = options.parameterTolerance, change < tolerance { return finish(converged: true) }
      if let tolerance = options.valueTolerance, abs(current.value - previous) < tolerance * max(1, abs(previous)) {
        return finish(converged: true)
      }
    }
    return finish(converged: gradientTestPasses())
  }

  /// Minimises f: maximises −f (negation is exact, so the iterates are
  /// those of the maximisation). The result's evaluation is of f.
  static func minimize(
    start: [Double], at initial: Evaluation, options: Options,
    project: ([Double]) -> [Double] = { $0 },
    objective: (_ theta: [Double], _ derivatives: Bool) -> Evaluation?
  ) -> Result {
    var r = maximize(start: start, at: initial.negated, options: options, project: project) {
      objective($0, $1)?.negated
    }
    r.evaluation = r.evaluation.negated
    return r
  }

  /// `d` with `(−H + ridge·I) d = g`, or nil when that matrix is not
  /// positive definite (or, with `requireFinite`, d is not finite).
  static func solve(_ e: Evaluation, ridge: Double, requireFinite: Bool) -> [Double]? {
    let n = e.gradient.count
    var a = Matrix(rows: n, columns: n)
    for i in 0..<n { for j in 0..<n { a[i, j] = -e.hessian[i, j] } }
    if ridge > 0 { for i in 0..<n { a[i, i] += ridge } }
    guard let d = try? LinearAlgebra.solveSymmetricPositiveDefinite(a, e.gradient) else { return nil }
    if requireFinite && !d.allSatisfy(\.isFinite) { return nil }
    return d
  }

  static func maxNorm(_ v: [Double]) -> Double { v.map(abs).max() ?? 0 }
}

extension NewtonOptimizer.Evaluation {
  /// From −H (the observed information, for a log-likelihood).
  init(value: Double, gradient: [Double], negativeHessian: Matrix) {
    self.init(value: value, gradient: gradient, hessian: negativeHessian.negated)
  }

  /// −H.
  var negativeHessian: Matrix { hessian.negated }

  /// −f, with its gradient and Hessian.
  var negated: Self { Self(value: -value, gradient: gradient.map { -$0 }, hessian: hessian.negated) }
}

extension Matrix {
  /// Every entry negated (exactly).
  fileprivate var negated: Matrix {
    var m = self
    for i in m.values.indices { m.values[i] = -m.values[i] }
    return m
  }
}
