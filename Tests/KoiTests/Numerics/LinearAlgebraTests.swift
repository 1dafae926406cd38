import CBLAS
import Testing

@testable import Koi

@Suite struct LinearAlgebraTests {
  @Test func dgemmMultipliesKnownMatrices() {
    let a = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
    let b = Matrix(rows: 3, columns: 2, values: [7, 8, 9, 10, 11, 12])
    let c = LinearAlgebra.multiply(a, b)
    #expect(c.values == [58, 64, 139, 154])
  }

  @Test func dgesvSolvesASystem() throws {
    // 2x + y - z = 8; -3x - y + 2z = -11; -2x + y + 2z = -3  =>  (2, 3, -1)
    let a = Matrix(rows: 3, columns: 3, values: [2, 1, -1, -3, -1, 2, -2, 1, 2])
    let x = try LinearAlgebra.solve(a, [8, -11, -3])
    for (got, want) in zip(x, [2.0, 3.0, -1.0]) {
      #expect(abs(got - want) < 1e-12)
    }
  }

  @Test func dgesvReportsASingularMatrix() {
    let a = Matrix(rows: 2, columns: 2, values: [1, 2, 2, 4])
    #expect(throws: LinearAlgebraError.self) { try LinearAlgebra.solve(a, [1, 2]) }
  }

  @Test func choleskyInverseTimesMatrixIsIdentity() throws {
    let a = Matrix(rows: 3, columns: 3, values: [4, 2, 0.6, 2, 5, 1, 0.6, 1, 3])
    let inv = try LinearAlgebra.inverseSymmetricPositiveDefinite(a)
    let p = LinearAlgebra.multiply(a, inv)
    for i in 0..<3 { for j in 0..<3 { #expect(abs(p[i, j] - (i == j ? 1 : 0)) < 1e-12) } }
    let x = try LinearAlgebra.solveSymmetricPositiveDefinite(a, [1, 2, 3])
    let back = LinearAlgebra.multiply(a, Matrix(rows: 3, columns: 1, values: x))
    for (got, want) in zip(back.values, [1.0, 2, 3]) { #expect(abs(got - want) < 1e-12) }
  }

  /// OpenBLAS works on the calling thread only (`LinearAlgebra.singleThreaded`):
  /// with its own threads, a LAPACK call's last digits depended on their number.
  @Test func openBLASRunsOnTheCallingThread() throws {
    _ = try LinearAlgebra.solveSymmetricPositiveDefinite(Matrix(rows: 1, columns: 1, values: [2]), [1])
    #expect(openblas_get_num_threads() == 1)
  }

  @Test func leastSquaresRecoversALine() throws {
    // y = 1 + 2x exactly
    let xs: [Double] = [0, 1, 2, 3, 4]
    let a = Matrix(rows: 5, columns: 2, values: xs.flatMap { [1, $0] })
    let beta = try LinearAlgebra.leastSquares(a, xs.map { 1 + 2 * $0 })
    #expect(abs(beta[0] - 1) < 1e-12 && abs(beta[1] - 2) < 1e-12)
  }
}
