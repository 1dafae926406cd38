import RealModule
import Testing

@testable import Koi

@Suite struct NewtonOptimizerTests {
  typealias Evaluation = NewtonOptimizer.Evaluation

  /// The two step controls as the fits configure them.
  static let damping = NewtonMaximizer.options(maximumIterations: 200)
  static let halving = IntervalRegression.newtonOptions(maximumIterations: 100)

  /// f(θ) = −½ (θ − c)ᵀ A (θ − c), A positive definite: maximum at c.
  static func quadratic(_ theta: [Double], _ derivatives: Bool) -> Evaluation? {
    let a = [[4.0, 1.0], [1.0, 3.0]], c = [1.5, -2.0]
    let r = [theta[0] - c[0], theta[1] - c[1]]
    let ar = [a[0][0] * r[0] + a[0][1] * r[1], a[1][0] * r[0] + a[1][1] * r[1]]
    return Evaluation(
      value: -0.5 * (r[0] * ar[0] + r[1] * ar[1]), gradient: ar.map { -$0 },
      hessian: Matrix(rows: 2, columns: 2, values: [-4, -1, -1, -3]))
  }

  /// Rosenbrock's function (1 − x)² + 100 (y − x²)²: minimum 0 at (1, 1),
  /// along a curved valley, with an indefinite Hessian away from it.
  static func rosenbrock(_ theta: [Double], _ derivatives: Bool) -> Evaluation? {
    let x = theta[0], y = theta[1]
    let value = (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)
    let gradient = [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]
    let hxx = 2 - 400 * (y - x * x) + 800 * x * x, hxy = -400 * x
    return Evaluation(
      value: value, gradient: gradient, hessian: Matrix(rows: 2, columns: 2, values: [hxx, hxy, hxy, 200]))
  }

  @Test(arguments: [damping, halving])
  func aQuadraticTakesOneNewtonStep(options: NewtonOptimizer.Options) throws {
    let start = [3.0, 0.5]  // within the damped step's cap of 3
    let initial = try #require(Self.quadratic(start, true))
    let r = NewtonOptimizer.maximize(start: start, at: initial, options: options, objective: Self.quadratic)
    #expect(r.converged)
    #expect(abs(r.theta[0] - 1.5) < 1e-12 && abs(r.theta[1] + 2) < 1e-12)
    #expect(abs(r.evaluation.value) < 1e-20)
    // Damping stops on the gradient before a second step; halving takes a
    // second, vanishing step and stops on the change.
    if case .damping = options.stepControl { #expect(r.iterations == 1) } else { #expect(r.iterations == 2) }
  }

  @Test(arguments: [damping, halving])
  func rosenbrockIsMinimised(options: NewtonOptimizer.Options) throws {
    let start = [-1.2, 1.0]
    let initial = try #require(Self.rosenbrock(start, true))
    let r = NewtonOptimizer.minimize(start: start, at: initial, options: options, objective: Self.rosenbrock)
    #expect(r.converged)
    #expect(abs(r.theta[0] - 1) < 1e-6 && abs(r.theta[1] - 1) < 1e-6, "\(r.theta)")
    // The evaluation is of the function minimised, not of its negation.
    #expect(r.evaluation.value >= 0 && r.evaluation.value < 1e-12)
    #expect(r.evaluation.hessian[1, 1] == 200)
    #expect(r.iterations > 2 && r.iterations < 100)
  }

  @Test func theIterationCapStopsWithoutConvergence() throws {
    var options = Self.damping
    options.maximumIterations = 2
    let start = [-1.2, 1.0]
    let r = NewtonOptimizer.minimize(
      start: start, at: try #require(Self.rosenbrock(start, true)), options: options, objective: Self.rosenbrock)
    #expect(!r.converged)
    #expect(r.iterations == 2)
  }

  /// Damping climbs out of a region where −H is not positive definite:
  /// cos θ from near its minimum at π.
  @Test func dampingFindsAscentWhereTheHessianIsIndefinite() throws {
    let cosine: ([Double], Bool) -> Evaluation? = { theta, _ in
      Evaluation(
        value: Double.cos(theta[0]), gradient: [-Double.sin(theta[0])],
        hessian: Matrix(rows: 1, columns: 1, values: [-Double.cos(theta[0])]))
    }
    let r = NewtonOptimizer.maximize(
      start: [3.0], at: try #require(cosine([3.0], true)), options: Self.damping, objective: cosine)
    #expect(r.converged)
    #expect(abs(r.evaluation.value - 1) < 1e-15)
    #expect(abs(r.theta[0].remainder(dividingBy: 2 * Double.pi)) < 1e-8, "\(r.theta)")
  }

  /// With a projection onto θ ≥ 0, the maximum of −(θ + 1)² is at the bound,
  /// where the next projected step changes nothing.
  @Test func theProjectionHoldsTheBound() throws {
    let f: ([Double], Bool) -> Evaluation? = { theta, _ in
      Evaluation(
        value: -(theta[0] + 1) * (theta[0] + 1), gradient: [-2 * (theta[0] + 1)],
        hessian: Matrix(rows: 1, columns: 1, values: [-2]))
    }
    let r = NewtonOptimizer.maximize(
      start: [2.0], at: try #require(f([2.0], true)), options: Self.halving, project: { [max(0, $0[0])] }, objective: f)
    #expect(r.converged)
    #expect(r.theta == [0])
    #expect(r.evaluation.value == -1)
    #expect(r.iterations == 2)
  }
}
